"""The LLM tool of the "call a contact" intent (Home Assistant 2026.x).

On 2025.x the Assist API offers every registered intent as a tool by itself; from
2026.x each integration contributes its own through this platform. Home Assistant
2025.x never imports it.
"""

from __future__ import annotations

from typing import Any, override

# probatio, not voluptuous: this module runs on 2026.x only, whose Tool types it.
import probatio

from homeassistant.components.llm import LLMTools
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import intent
from homeassistant.helpers.llm import (
    LLM_API_ASSIST,
    LLMContext,
    Tool,
    ToolAnnotations,
    ToolInput,
    ToolResult,
)

from .const import DOMAIN
from .intent import INTENT_CALL_CONTACT, call_description, exposed_contacts


class CallContactTool(Tool):
    """Rings one of the contacts exposed to the assistant."""

    name = f"{DOMAIN}__call_contact"
    title = "Call a contact"
    # Placing a call changes the world outside Home Assistant, every time.
    annotations = ToolAnnotations(
        read_only=False, destructive=False, idempotent=False, open_world=True
    )
    integration = DOMAIN

    def __init__(self, names: list[str]) -> None:
        """Offer the contacts the assistant may ring, by name."""
        self.description = call_description(names)
        self.parameters = probatio.Schema(
            {probatio.Required("name"): probatio.In(names)}
        )

    @override
    async def async_call(
        self, hass: HomeAssistant, tool_input: ToolInput, llm_context: LLMContext
    ) -> ToolResult:
        """Place the contact's call through the intent, as a voice request would."""
        try:
            response = await intent.async_handle(
                hass,
                llm_context.platform,
                INTENT_CALL_CONTACT,
                # A model may leave the name out: the intent refuses that, too.
                {"name": {"value": tool_input.tool_args.get("name")}},
                context=llm_context.context,
                language=llm_context.language,
                assistant=llm_context.assistant,
                device_id=llm_context.device_id,
            )
        except intent.IntentError as err:
            return ToolResult(data={"error": str(err)}, error=True)
        data: dict[str, Any] = response.as_dict()
        # As Home Assistant's own intent tools: the model needs neither.
        del data["language"], data["card"]
        return ToolResult(data=data)


@callback
def async_get_tools(
    hass: HomeAssistant, llm_context: LLMContext, api_id: str
) -> LLMTools | None:
    """Offer the call tool to Assist while a contact is exposed to the assistant."""
    if api_id != LLM_API_ASSIST:
        return None
    names = sorted({name for name, *_ in exposed_contacts(hass, llm_context.assistant)})
    if not names:
        return None
    return LLMTools(tools=[CallContactTool(names)])
