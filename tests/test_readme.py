"""The YAML examples of the README and the docs/ pages, run as written against the simulator.

The examples ring phones in the documented order (the simulator's model): each test
checks on the wire which phone was rung first. Also: every relative link between the
pages resolves, and the README links every page.
"""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)
import yaml

from custom_components.spectronics_voip.const import (
    DOMAIN,
    SERVICE_CALL_UNTIL_ANSWERED,
    SERVICE_PLACE_CALL,
)
from custom_components.spectronics_voip.services import PLACE_CALL_SCHEMA
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component

from .common import make_entry, set_up_entry
from .simulator import EXTENSION, OTHER_EXTENSION, Answer, Fault, Simulator

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
MOBILE = "+447700900123"
ME = "07700900001"
PARTNER = "07700900486"  # rejects when rung first


def _examples() -> list[tuple[str, Any]]:
    """Return every YAML block of the README and the docs pages, parsed, with its page."""
    return [
        (page.relative_to(ROOT).as_posix(), yaml.safe_load(block))
        for page in PAGES
        for block in re.findall(r"```yaml\n(.*?)```", page.read_text(), re.DOTALL)
    ]


def _example(predicate: str, page: str) -> Any:
    """Return the one example whose YAML text contains `predicate`; it is on `page`."""
    found = [
        (where, block)
        for where, block in _examples()
        if predicate in yaml.safe_dump(block)
    ]
    assert [where for where, _ in found] == [page], predicate
    return found[0][1]


async def _run(
    hass: HomeAssistant, example: dict[str, Any], *, return_response: bool = False
) -> Any:
    """Run an example that is one action step."""
    domain, service = example["action"].split(".")
    return await hass.services.async_call(
        domain,
        service,
        example.get("data"),
        target=example.get("target"),
        blocking=True,
        return_response=return_response,
    )


# The README: a first call, a dashboard


async def test_smoke_alarm_automation(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The first call rings the mobile first, once, connected on to the extension."""
    config = _example("Smoke alarm: ring my mobile", "README.md")
    hass.states.async_set("binary_sensor.kitchen_smoke", "off")
    assert await async_setup_component(hass, "automation", config)

    hass.states.async_set("binary_sensor.kitchen_smoke", "on")
    await hass.async_block_till_done()

    assert simulator.rung_first == [MOBILE]
    assert simulator.calls == [
        {
            "auth": simulator.calls[0]["auth"],
            "extension": EXTENSION,
            "destination": EXTENSION,
            "source": MOBILE,
            "cidname": "ALARM: KITCHEN SMOKE",
            "reverse": "0",
            "wait": "0",
        }
    ]


@pytest.fixture
def contacts_entry(simulator: Simulator) -> MockConfigEntry:
    """Return the account with the contacts the examples use.

    Front door is quick dial; Mum's extension, Me's and Partner's numbers ring first.
    """
    return make_entry(
        simulator.url,
        contacts={
            "Front door": {"destination": "2001"},
            "Mum": {"destination": OTHER_EXTENSION, "ring_first": "contact_extension"},
            "Me": {"destination": ME, "ring_first": "contact_number"},
            "Partner": {"destination": PARTNER, "ring_first": "contact_number"},
        },
    )


async def test_contacts_dashboard(
    hass: HomeAssistant, contacts_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """Every entity the dashboard shows exists; its tiles press the contacts' buttons."""
    await set_up_entry(hass, contacts_entry)
    card = _example("type: vertical-stack", "README.md")
    entity_ids = [c["entity"] for c in card["cards"] if "entity" in c]
    entity_ids += [c["target"]["entity_id"] for c in card["cards"] if "target" in c]

    assert entity_ids
    for entity_id in entity_ids:
        assert hass.states.get(entity_id) is not None, entity_id

    # As the README says: Front door rings your extension first, Mum her own.
    for tile in card["cards"]:
        if tile.get("tap_action") == {"action": "toggle"}:
            await hass.services.async_call(
                "button", "press", {"entity_id": tile["entity"]}, blocking=True
            )
    assert simulator.rung_first == [EXTENSION, OTHER_EXTENSION]
    assert [call["destination"] for call in simulator.calls] == ["2001", EXTENSION]


# docs/actions-and-events.md


async def test_first_call_response_example(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The response data shown is what the first call returns, key for key, in order."""
    shown = _example("rings_first: '+447700900123'", "docs/actions-and-events.md")
    call = _example("Smoke alarm: ring my mobile", "README.md")
    action = call["automation"][0]["actions"][0]

    response = await _run(hass, action, return_response=True)

    assert response is not None
    assert list(response) == list(shown)
    assert response["config_entry_id"] == init_integration.entry_id
    assert {**response, "config_entry_id": None} == {**shown, "config_entry_id": None}


async def test_failed_call_automation(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The failure example names the phone rung first, the error and the message."""
    notify = async_mock_service(hass, "notify", "notify")
    assert await async_setup_component(
        hass,
        "automation",
        _example("Alarm call failed: notify instead", "docs/actions-and-events.md"),
    )

    await hass.services.async_call(
        DOMAIN, SERVICE_PLACE_CALL, {"destination": MOBILE}, blocking=True
    )
    await hass.async_block_till_done()
    assert notify == []

    # The mobile, rung first, rejects the call.
    simulator.phones[MOBILE] = "reject"
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN,
            SERVICE_PLACE_CALL,
            {"source": MOBILE, "destination": EXTENSION, "wait": True},
            blocking=True,
        )
    await hass.async_block_till_done()

    assert simulator.rung_first == [EXTENSION, MOBILE]
    assert [call.data for call in notify] == [
        {"title": f"Alarm call to {MOBILE} failed", "message": "api: Call rejected"}
    ]


@pytest.mark.parametrize(
    ("mobile", "notified"), [("answer", 0), ("timeout", 1), ("reject", 1)]
)
async def test_wake_up_script(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: Simulator,
    mobile: Answer,
    notified: int,
) -> None:
    """The mobile's own answer decides; a house phone nobody answers changes nothing."""
    notify = async_mock_service(hass, "notify", "notify")
    example = _example("wake_up_call", "docs/actions-and-events.md")
    assert await async_setup_component(hass, "script", example)
    simulator.phones[EXTENSION] = "timeout"
    simulator.phones[MOBILE] = mobile

    await hass.services.async_call("script", "wake_up_call", blocking=True)
    await hass.async_block_till_done()

    assert simulator.rung_first == [MOBILE]
    assert simulator.calls[0]["wait"] == "1"
    assert len(notify) == notified


async def test_call_me_now_action(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The call-me-now example rings the source first, then the destination."""
    await _run(
        hass, _example("destination: '+442079460958'", "docs/actions-and-events.md")
    )

    assert simulator.rung_first == [MOBILE]
    fields = simulator.requests[-1].fields
    assert (fields["source"], fields["destination"]) == (MOBILE, "+442079460958")


async def test_dashboard_button_card(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """The button card's action is quick dial: your extension first, then 2001."""
    action = _example("perform-action", "docs/actions-and-events.md")["tap_action"]
    assert action["perform_action"] == f"{DOMAIN}.{SERVICE_PLACE_CALL}"
    assert PLACE_CALL_SCHEMA(action["data"]) == action["data"]

    await _run(hass, {"action": action["perform_action"], "data": action["data"]})

    assert simulator.rung_first == [EXTENSION]
    assert (simulator.calls[0]["destination"], simulator.calls[0]["cidname"]) == (
        "2001",
        "Dashboard",
    )


async def test_several_extensions_example(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """With two accounts loaded, the example's config_entry_id picks the one to call from."""
    example = _example(
        "config_entry_id: 01JD5Z0EXAMPLE0ENTRY0ID000", "docs/actions-and-events.md"
    )
    await set_up_entry(hass, make_entry(simulator.url))
    other = make_entry(simulator.url, extension=OTHER_EXTENSION)
    await set_up_entry(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            minor_version=2,
            entry_id=example["data"]["config_entry_id"],
            title=other.title,
            unique_id=other.unique_id,
            data=other.data,
        ),
    )

    await _run(hass, example)

    assert simulator.rung_first == [OTHER_EXTENSION]
    assert simulator.calls[0]["destination"] == example["data"]["destination"]


async def test_escalation_response_example(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """The call_until_answered response shown is what Mum (rings out) and Dad give."""
    shown = _example("answered_by: Dad", "docs/actions-and-events.md")
    mum, dad = (attempt["source"] for attempt in shown["attempts"])
    simulator.phones[EXTENSION] = simulator.phones[mum] = "timeout"
    await set_up_entry(
        hass,
        make_entry(
            simulator.url,
            contacts={
                "Mum": {"destination": mum, "ring_first": "contact_number"},
                "Dad": {"destination": dad, "ring_first": "contact_number"},
            },
        ),
    )

    response = await hass.services.async_call(
        DOMAIN,
        SERVICE_CALL_UNTIL_ANSWERED,
        {"contacts": ["button.mum_call", "button.dad_call"]},
        blocking=True,
        return_response=True,
    )

    assert response is not None
    assert simulator.rung_first == [mum, dad]
    assert {key: response[key] for key in ("success", "answered_by")} == {
        "success": shown["success"],
        "answered_by": shown["answered_by"],
    }
    attempts: Any = response["attempts"]
    assert [
        {key: attempt[key] for key in example}
        for attempt, example in zip(attempts, shown["attempts"], strict=True)
    ] == shown["attempts"]


async def test_last_call_failed_automation(
    hass: HomeAssistant, contacts_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """The "Last call failed" example tells who could not be called: contact or number."""
    await set_up_entry(hass, contacts_entry)
    created = async_mock_service(hass, "persistent_notification", "create")
    assert await async_setup_component(
        hass,
        "automation",
        _example("Last call failed: tell the household", "docs/actions-and-events.md"),
    )
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.mum_call"}, blocking=True
    )
    await hass.async_block_till_done()
    assert created == []

    simulator.set_fault(Fault(body=b"ERR:Call rejected"))
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.front_door_call"}, blocking=True
        )
    await hass.async_block_till_done()

    # A success in between, then a number rung first that rejects the call.
    simulator.set_fault(None)
    await hass.services.async_call(
        DOMAIN, SERVICE_PLACE_CALL, {"destination": "2002"}, blocking=True
    )
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            DOMAIN,
            SERVICE_PLACE_CALL,
            {"source": PARTNER, "destination": EXTENSION, "wait": True},
            blocking=True,
        )
    await hass.async_block_till_done()

    assert [call.data for call in created] == [
        {"title": "Call to Front door failed", "message": "Call rejected"},
        {"title": f"Call to {PARTNER} failed", "message": "Call rejected"},
    ]


# docs/contacts.md


async def test_notify_mum_example(
    hass: HomeAssistant, contacts_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """Mum's own extension rings first, showing the message as the caller name."""
    await set_up_entry(hass, contacts_entry)

    await _run(hass, _example("Dinner is ready", "docs/contacts.md"))

    assert simulator.rung_first == [OTHER_EXTENSION]
    [call] = simulator.calls
    assert (call["extension"], call["destination"], call["cidname"]) == (
        OTHER_EXTENSION,
        EXTENSION,
        "Dinner is ready",
    )


# docs/escalation-and-rails.md


async def test_alarm_escalation_example(
    hass: HomeAssistant, contacts_entry: MockConfigEntry, simulator: Simulator
) -> None:
    """The alarm rings my phone, then my partner's, twice; notifies if nobody answers.

    The account's extension is a house phone nobody answers: it is never rung first.
    """
    await set_up_entry(hass, contacts_entry)
    created = async_mock_service(hass, "persistent_notification", "create")
    config = _example(
        "Alarm: ring until someone answers", "docs/escalation-and-rails.md"
    )
    config["automation"][0]["actions"][0]["data"]["delay"] = 0  # not 10 s in a test
    simulator.ring_time = 0.01
    simulator.phones[EXTENSION] = "timeout"
    hass.states.async_set("alarm_control_panel.home", "armed_away")
    assert await async_setup_component(hass, "automation", config)

    # I answer.
    hass.states.async_set("alarm_control_panel.home", "triggered")
    await hass.async_block_till_done()
    assert simulator.rung_first == [ME]
    assert simulator.calls[0]["source"] == ME
    assert simulator.calls[0]["cidname"] == "ALARM: KITCHEN SMOKE"
    assert simulator.calls[0]["wait"] == "1"
    assert created == []

    # My phone rings out, my partner's rejects: two rounds of both, then the
    # notification. (Within the cooldown my answered call would count as answered
    # again: turn it off for this part.)
    hass.config_entries.async_update_entry(contacts_entry, options={"cooldown": 0})
    simulator.phones[ME] = "timeout"
    hass.states.async_set("alarm_control_panel.home", "armed_away")
    hass.states.async_set("alarm_control_panel.home", "triggered")
    await hass.async_block_till_done()
    assert simulator.rung_first[1:] == [ME, PARTNER] * 2
    assert [call.data for call in created] == [
        {"message": "Nobody answered the alarm call"}
    ]


async def test_destinations_example(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: Simulator
) -> None:
    """Each number rings first, connected to the kitchen phone; the second answers."""
    example = _example("FLOOD: CELLAR", "docs/escalation-and-rails.md")
    first, second = example["data"]["destinations"]
    simulator.phones[first] = "timeout"

    response = await _run(hass, example, return_response=True)

    assert simulator.rung_first == [first, second]
    assert [
        (call["source"], call["destination"], call["cidname"])
        for call in simulator.calls
    ] == [
        (first, OTHER_EXTENSION, "FLOOD: CELLAR"),
        (second, OTHER_EXTENSION, "FLOOD: CELLAR"),
    ]
    assert response["success"] is True
    assert response["answered_by"] == second


# Links between the pages


def _anchor(heading: str) -> str:
    """Return GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    """Return the anchors of a page's headings (outside code blocks)."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    return {_anchor(title) for title in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


def _links(page: Path) -> list[str]:
    """Return the relative links and images of a page (outside code blocks)."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    return [link for link in links if "://" not in link]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_links_resolve(page: Path) -> None:
    """Every relative link of a page names a file that exists, and a heading of it."""
    assert _links(page)
    for link in _links(page):
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), f"{page.name}: {link}"
        if anchor:
            assert anchor in _anchors(target), f"{page.name}: {link}"


def test_readme_links_every_page() -> None:
    """Each docs page is reachable from the README's own links."""
    linked = {
        (ROOT / link.partition("#")[0]).resolve()
        for link in _links(README)
        if link.startswith("docs/")
    }
    assert {page.resolve() for page in DOCS.glob("*.md")} <= linked
