"""Voice calls: the SpectronicsCallContact intent and its LLM tool, against the simulator.

Python decides the Home Assistant line (DESIGN.md §4): 2025.4 on Python 3.13, where
the Assist API offers every registered intent as a tool by itself and the `llm`
component does not exist; 2026.x on Python 3.14, where the integration's `llm.py`
platform contributes the tool. A test that differs between the lines branches on
LLM_PLATFORMS and says which line each branch handles.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.spectronics_voip.const import DOMAIN, EVENT_CALL_RESULT
from custom_components.spectronics_voip.dialer import CallFailedError
from custom_components.spectronics_voip.intent import INTENT_CALL_CONTACT
from homeassistant.components.homeassistant.exposed_entities import async_expose_entity
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import entity_registry as er, intent, llm
from homeassistant.setup import async_setup_component

from .common import contact_id, free_port, make_entry, translated
from .simulator import EXTENSION, OTHER_EXTENSION, Simulator

# 2026.x: the `llm` component collects each integration's llm.py tools. 2025.4 has
# no such component: its Assist API turns registered intents into tools itself.
LLM_PLATFORMS = importlib.util.find_spec("homeassistant.components.llm") is not None
LLM_MODULE = f"custom_components.{DOMAIN}.llm"
TOOL_2026 = f"{DOMAIN}__call_contact"
# 2025.4 names an intent's tool after the intent type, slugified (unchanged here).
TOOL_2025 = INTENT_CALL_CONTACT

# Mum's own number rings first (sent as the source), then the account's extension.
# Front door is quick dial: the account's extension rings first, then the door.
# Partner's number rings first and rejects (the simulator rejects numbers ending in
# 486); the call waits for that answer. Hidden's Call button is never exposed.
MUM = "07700900123"
DOOR = "2001"
PARTNER = "07700900486"
HIDDEN = "07700900777"
CONTACTS: dict[str, dict[str, Any]] = {
    "Mum": {"destination": MUM, "ring_first": "contact_number"},
    "Front door": {"destination": DOOR, "cidname": "FRONT DOOR"},
    "Partner": {"destination": PARTNER, "ring_first": "contact_number", "wait": True},
    "Hidden": {"destination": HIDDEN},
}
EXPOSED = ("Mum", "Front door", "Partner")
USER_ID = "voice-user"


def call_button(hass: HomeAssistant, entry: MockConfigEntry, name: str) -> str:
    """Return the entity id of a contact's Call button."""
    subentry_id = contact_id(entry, name)
    [entity_id] = [
        entity.entity_id
        for entity in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if entity.domain == "button" and entity.config_subentry_id == subentry_id
    ]
    return entity_id


def expose(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    *names: str,
    exposed: bool = True,
    assistant: str = "conversation",
) -> None:
    """Expose (or hide) contacts' Call buttons, as Settings → Voice assistants does."""
    for name in names:
        async_expose_entity(hass, assistant, call_button(hass, entry, name), exposed)


async def add_account(
    hass: HomeAssistant,
    simulator: Simulator,
    *,
    extension: str = EXTENSION,
    contacts: dict[str, dict[str, Any]] = CONTACTS,
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """Set up an account on the simulator; forget its set-up request."""
    entry = make_entry(
        simulator.url, extension=extension, contacts=contacts, options=options
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    simulator.requests.clear()
    return entry


async def setup_assist(hass: HomeAssistant, component: str | None = "intent") -> None:
    """Set up http (on loopback), the exposure settings and, unless None, a component.

    The intent component (which needs http) loads the integration's intent.py and
    registers the intent.
    """
    assert await async_setup_component(
        hass,
        "http",
        {"http": {"server_host": ["127.0.0.1"], "server_port": free_port()}},
    )
    assert await async_setup_component(hass, "homeassistant", {})
    if component is not None:
        assert await async_setup_component(hass, component, {})
    await hass.async_block_till_done()


@pytest.fixture
async def account(hass: HomeAssistant, simulator: Simulator) -> MockConfigEntry:
    """Set up the intent component and an account; expose three contacts."""
    simulator.ring_time = 0.01
    await setup_assist(hass)
    entry = await add_account(hass, simulator)
    expose(hass, entry, *EXPOSED)
    return entry


async def call(
    hass: HomeAssistant, name: str, context: Context | None = None
) -> intent.IntentResponse:
    """Handle the intent as a conversation agent does."""
    return await intent.async_handle(
        hass,
        "test",
        INTENT_CALL_CONTACT,
        {"name": {"value": name}},
        assistant="conversation",
        context=context,
    )


def speech(response: intent.IntentResponse) -> str:
    """Return a response's plain speech."""
    text: str = response.speech["plain"]["speech"]
    return text


def llm_context(context: Context) -> llm.LLMContext:
    """Return an LLM context as each line's own tests build it."""
    if LLM_PLATFORMS:  # 2026.x: user_prompt is gone
        return llm.LLMContext(
            platform="test",
            context=context,
            language="en",
            assistant="conversation",
            device_id=None,
        )
    return llm.LLMContext(  # 2025.4
        platform="test",
        context=context,
        user_prompt="call Mum",
        language="en",
        assistant="conversation",
        device_id=None,
    )


async def assist_api(hass: HomeAssistant) -> llm.APIInstance:
    """Return the Assist API for a conversation's LLM context."""
    if LLM_PLATFORMS:  # 2026.x: the llm component registers the Assist API
        assert await async_setup_component(hass, "llm", {})
    return await llm.async_get_api(
        hass, llm.LLM_API_ASSIST, llm_context(Context(user_id=USER_ID))
    )


def call_tools(api: llm.APIInstance) -> list[llm.Tool]:
    """Return the tools of the Assist API that call a contact, on either line."""
    return [tool for tool in api.tools if tool.name in (TOOL_2025, TOOL_2026)]


# The intent


async def test_call_a_contact_whose_phone_rings_first(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """Asked for as ' mUm ', Mum's number rings first, once, in the conversation's context."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    context = Context(user_id=USER_ID)

    response = await call(hass, " mUm ", context)

    assert speech(response) == "Ringing Mum's phone"
    [request] = simulator.requests
    assert request.method == "POST"
    assert request.fields["source"] == MUM
    assert request.fields["destination"] == EXTENSION
    assert request.fields["extension"] == EXTENSION
    assert request.fields["wait"] == "0"
    [event] = events
    assert event.data["contact"] == "Mum"
    assert event.data["config_entry_id"] == account.entry_id
    assert event.context.user_id == USER_ID
    assert event.context.id == context.id


@pytest.mark.usefixtures("account")
async def test_call_a_quick_dial_contact(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Case and spaces aside, a quick-dial contact rings your extension, then its number."""
    response = await call(hass, "  FRONT   door ")

    assert speech(response) == "Calling Front door"
    [request] = simulator.requests
    assert "source" not in request.fields
    assert request.fields["extension"] == EXTENSION
    assert request.fields["destination"] == DOOR
    assert request.fields["cidname"] == "FRONT DOOR"


@pytest.mark.usefixtures("account")
async def test_unknown_name(hass: HomeAssistant, simulator: Simulator) -> None:
    """A name no contact has is an intent error naming it; nothing is sent."""
    with pytest.raises(
        intent.IntentHandleError, match="^There is no contact called Nobody$"
    ):
        await call(hass, "Nobody")

    assert simulator.requests == []


async def test_disabled_contact_is_unknown(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """An exposed contact whose Call button is disabled cannot be rung by voice."""
    er.async_get(hass).async_update_entity(
        call_button(hass, account, "Mum"), disabled_by=er.RegistryEntryDisabler.USER
    )
    await hass.async_block_till_done()

    with pytest.raises(
        intent.IntentHandleError, match="^There is no contact called Mum$"
    ):
        await call(hass, "Mum")

    assert simulator.requests == []


@pytest.mark.usefixtures("account")
async def test_repeat_within_the_cooldown(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Asked twice at once, Mum rings once; the second answer says it was not sent."""
    assert speech(await call(hass, "Mum")) == "Ringing Mum's phone"

    response = await call(hass, "Mum")

    assert speech(response) == "Mum was called moments ago; not calling again"
    assert len(simulator.requests) == 1


async def test_ambiguous_name(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """Two accounts with an exposed Mum: an intent error, nothing sent; hide one, it rings."""
    other = await add_account(
        hass,
        simulator,
        extension=OTHER_EXTENSION,
        contacts={"mum": {"destination": "07700900456"}},
    )
    expose(hass, other, "mum")

    with pytest.raises(
        intent.IntentHandleError, match="^More than one contact is called Mum$"
    ):
        await call(hass, "Mum")
    assert simulator.requests == []

    # Only exposed contacts count: with the other account's hidden, Mum is Mum.
    expose(hass, other, "mum", exposed=False)
    assert speech(await call(hass, "Mum")) == "Ringing Mum's phone"
    [request] = simulator.requests
    assert request.fields["extension"] == EXTENSION
    assert request.fields["source"] == MUM


async def test_contact_not_exposed_is_unknown(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """A contact whose Call button is not exposed to Assist is refused as unknown."""
    # Buttons are not exposed by default; exposing to another assistant is not Assist.
    expose(hass, account, "Hidden", assistant="cloud.google_assistant")
    with pytest.raises(
        intent.IntentHandleError, match="^There is no contact called Hidden$"
    ):
        await call(hass, "Hidden")
    # Exposed until now, then hidden.
    expose(hass, account, "Mum", exposed=False)
    with pytest.raises(
        intent.IntentHandleError, match="^There is no contact called mum$"
    ):
        await call(hass, "mum")
    assert simulator.requests == []

    # Exposed to Assist, the household lets voice ring it.
    expose(hass, account, "Hidden")
    assert speech(await call(hass, "hidden")) == "Calling Hidden"
    [request] = simulator.requests
    assert request.fields["destination"] == HIDDEN


@pytest.mark.usefixtures("account")
async def test_failed_call_provider_fault(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A provider fault is an intent error with the translated message; one request."""
    simulator.set_fault("http500")

    with pytest.raises(intent.IntentHandleError) as raised:
        await call(hass, "Front door")

    assert str(raised.value) == translated(
        "call_failed_invalid_response", {"message": "unexpected HTTP status 500"}
    )
    assert isinstance(raised.value.__cause__, CallFailedError)
    [request] = simulator.requests
    assert request.fields["destination"] == DOOR


@pytest.mark.usefixtures("account")
async def test_failed_call_phone_rejects(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Partner's phone rejects the call that waits for it: the translated error; one request."""
    with pytest.raises(intent.IntentHandleError) as raised:
        await call(hass, "partner")

    assert str(raised.value) == translated(
        "call_failed_api", {"message": "Call rejected"}
    )
    assert isinstance(raised.value.__cause__, CallFailedError)
    [request] = simulator.requests
    assert request.fields["source"] == PARTNER
    assert request.fields["wait"] == "1"


# Rails


async def test_allowed_numbers_apply_to_voice_calls(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """A contact outside the allowed numbers is refused by voice with the reason; nothing sent."""
    hass.config_entries.async_update_entry(account, options={"allowed_numbers": [DOOR]})
    assert speech(await call(hass, "Front door")) == "Calling Front door"
    simulator.requests.clear()

    with pytest.raises(intent.IntentError) as raised:
        await call(hass, "Mum")

    assert simulator.requests == []
    # The refusal is the user's to fix (the account's options): the assistant should
    # say so, as it does for any other failed call, not report an unexpected error.
    assert isinstance(raised.value, intent.IntentHandleError), repr(raised.value)
    assert str(raised.value) == translated("number_not_allowed", {"number": MUM})


async def test_budget_applies_to_voice_calls(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """With 1 call an hour, the second voice call is refused without a request."""
    await setup_assist(hass)
    entry = await add_account(hass, simulator, options={"max_calls_per_hour": 1})
    expose(hass, entry, *EXPOSED)
    assert speech(await call(hass, "Mum")) == "Ringing Mum's phone"
    assert len(simulator.requests) == 1

    with pytest.raises(intent.IntentHandleError) as raised:
        await call(hass, "Front door")

    cause = raised.value.__cause__
    assert isinstance(cause, CallFailedError)
    assert cause.translation_key == "call_over_hourly_budget"
    assert str(raised.value) == translated(
        "call_over_hourly_budget",
        {"limit": "1", "time": cause.translation_placeholders["time"]},
    )
    assert len(simulator.requests) == 1


# The LLM tool


async def test_llm_tool_listed_and_called(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """The Assist API offers the call tool for an LLM context; calling it rings Mum once."""
    events = async_capture_events(hass, EVENT_CALL_RESULT)
    api = await assist_api(hass)

    [tool] = call_tools(api)
    if LLM_PLATFORMS:  # 2026.x: the integration's llm.py tool
        assert tool.name == TOOL_2026
        assert tool.title
        assert tool.integration == DOMAIN
        assert tool.annotations.read_only is False
        assert tool.annotations.idempotent is False
        assert tool.annotations.open_world is True
        assert tool.description is not None
        assert "real phone" in tool.description
        assert "costs money" in tool.description
        # The exposed contacts only.
        assert tool.description.endswith("The contacts: Front door, Mum, Partner.")
        assert "Hidden" not in tool.description
        assert tool.parameters({"name": "Mum"}) == {"name": "Mum"}
        # The intent describes itself the same way to whatever lists it as a tool.
        [handler] = [
            handler
            for handler in intent.async_get(hass)
            if handler.intent_type == INTENT_CALL_CONTACT
        ]
        assert handler.description == tool.description
    else:  # 2025.4: the IntentTool Home Assistant makes of the registered intent
        assert isinstance(tool, llm.IntentTool)
        assert tool.description is not None
        assert "real phone" in tool.description
        assert "costs money" in tool.description
        # The intent's description names the contacts exposed to Assist, read anew
        # for each conversation turn.
        assert tool.description.endswith("The contacts: Front door, Mum, Partner.")

    result = await api.async_call_tool(
        llm.ToolInput(tool_name=tool.name, tool_args={"name": "Mum"})
    )

    if LLM_PLATFORMS:  # 2026.x: a ToolResult
        assert isinstance(result, llm.ToolResult)
        assert result.error is False
        data = result.data
        # As Home Assistant's own intent tools: no card, no language.
        assert "card" not in data
        assert "language" not in data
    else:  # 2025.4: the intent response as a dict
        data = result
    assert data["speech"]["plain"]["speech"] == "Ringing Mum's phone"
    [request] = simulator.requests
    assert request.fields["source"] == MUM
    [event] = events
    assert event.context.user_id == USER_ID


async def test_llm_tool_not_listed_without_an_exposed_contact(
    hass: HomeAssistant, account: MockConfigEntry
) -> None:
    """No contact exposed: no call tool; only another button exposed differs by line."""
    expose(hass, account, *EXPOSED, exposed=False)
    assert call_tools(await assist_api(hass)) == []

    # The account's Stop calls button is a button, but no contact.
    async_expose_entity(
        hass, "conversation", f"button.extension_{EXTENSION}_stop_calls", True
    )
    tools = call_tools(await assist_api(hass))
    if LLM_PLATFORMS:  # 2026.x: llm.py offers the tool for exposed contacts only
        assert tools == []
        from homeassistant.components.llm import async_get_tools  # noqa: PLC0415 - 2026.x only

        # Another LLM API than Assist never gets it, even with a contact exposed.
        expose(hass, account, "Mum")
        other = await async_get_tools(hass, llm_context(Context()), "another_api")
        assert [tool.name for tool in other.tools if tool.name == TOOL_2026] == []
    else:  # 2025.4: Home Assistant offers the intent whenever any button is exposed
        assert [tool.name for tool in tools] == [TOOL_2025]


async def test_llm_tool_unknown_name(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """A name no exposed contact has, through the tool: an error for the model, nothing sent."""
    api = await assist_api(hass)
    [tool] = call_tools(api)
    tool_input = llm.ToolInput(tool_name=tool.name, tool_args={"name": "Hidden"})

    if LLM_PLATFORMS:  # 2026.x
        # The schema the model sees lists the exposed names only...
        import probatio  # noqa: PLC0415 - 2026.x only

        with pytest.raises(probatio.Invalid):
            tool.parameters({"name": "Hidden"})
        # ...but Home Assistant does not check the arguments against it: the tool
        # itself answers with an error result.
        result = await api.async_call_tool(tool_input)
        assert isinstance(result, llm.ToolResult)
        assert result.error is True
        assert result.data == {"error": "There is no contact called Hidden"}
    else:  # 2025.4: the intent's error; the chat log hands it to the model
        with pytest.raises(
            intent.IntentHandleError, match="^There is no contact called Hidden$"
        ):
            await api.async_call_tool(tool_input)

    assert simulator.requests == []


async def test_llm_tool_without_a_name(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """A tool call without a name is an error the chat log hands to the model; nothing sent."""
    api = await assist_api(hass)
    [tool] = call_tools(api)
    tool_input = llm.ToolInput(tool_name=tool.name, tool_args={})

    if LLM_PLATFORMS:  # 2026.x
        import probatio  # noqa: PLC0415 - 2026.x only

        # Home Assistant does not check the arguments against the schema: the
        # intent refuses the missing name, and the tool answers with an error result
        # (any exception but HomeAssistantError would end the conversation turn).
        with pytest.raises(probatio.Invalid):
            tool.parameters({})
        result = await api.async_call_tool(tool_input)
        assert isinstance(result, llm.ToolResult)
        assert result.error is True
        assert result.data == {
            "error": "Received invalid slot info for SpectronicsCallContact"
        }
    else:  # 2025.4: the intent's slot check refuses it
        with pytest.raises(intent.InvalidSlotInfo):
            await api.async_call_tool(tool_input)

    assert simulator.requests == []


# Set-up on both lines


async def test_llm_platform_imported_on_2026_only(
    hass: HomeAssistant, account: MockConfigEntry
) -> None:
    """2025.4 sets up without importing llm.py (no llm component); 2026.x uses it."""
    assert account.state is ConfigEntryState.LOADED
    api = await assist_api(hass)

    if LLM_PLATFORMS:  # 2026.x
        assert LLM_MODULE in sys.modules
        assert [tool.name for tool in call_tools(api)] == [TOOL_2026]
    else:  # 2025.4
        assert LLM_MODULE not in sys.modules
        assert [tool.name for tool in call_tools(api)] == [TOOL_2025]


async def test_assist_set_up_after_the_account(
    hass: HomeAssistant, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Assist set up after the account loads intent.py once, without an error."""
    await setup_assist(hass, None)
    entry = await add_account(hass, simulator)
    expose(hass, entry, "Mum")
    with pytest.raises(intent.UnknownIntent):
        await call(hass, "Mum")
    caplog.clear()

    # The intent component (a dependency of conversation) loads every integration's
    # intent.py as its intent platform and awaits its async_setup_intents.
    assert await async_setup_component(hass, "conversation", {})
    await hass.async_block_till_done()

    problems = [
        record.getMessage().splitlines()[0]
        for record in caplog.records
        if record.levelno >= logging.ERROR
        or "is being overwritten" in record.getMessage()
    ]
    assert problems == []
    assert speech(await call(hass, "Mum")) == "Ringing Mum's phone"
    assert len(simulator.requests) == 1
