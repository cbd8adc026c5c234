"""What the benchmark sets up: the form every path sends, the accounts, the helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.simulator import ALL_TOKEN, EXTENSION

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "spectronics_voip"
SERVICE = "place_call"
REST_NAME = "spectronics"
DESTINATION = "+441632960961"
# The form every path sends, field for field: DESTINATION rings first (the source),
# then the account's extension, as the benchmark's contact (its number rings first)
# and place_call with that source send it.
FORM = {
    "auth": ALL_TOKEN,
    "extension": EXTENSION,
    "destination": EXTENSION,
    "source": DESTINATION,
    "reverse": "0",
    "wait": "0",
}
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
FORM_BODY = urlencode(FORM)
RAW_HEADERS = {"Content-Type": FORM_CONTENT_TYPE, "Accept": "text/plain"}
# The same form with wait=1 and the number rung first a template, for the script.
REST_WAIT_PAYLOAD = (
    urlencode({key: value for key, value in FORM.items() if key != "source"}).replace(
        "wait=0", "wait=1"
    )
    + "&source={{ source }}"
)
REST_WAIT_NAME = "spectronics_wait"
CONTACT = "Bench"
MESSAGE = "Front door"
CID_FORM = FORM | {"cidname": MESSAGE}
# The call budget's options (CONF_MAX_CALLS_PER_HOUR, CONF_MAX_CALLS_PER_DAY; 0 turns
# one off). The defaults (60 an hour, 200 a day) would refuse all but the first calls
# of a run. Every call is counted, for the counters, whether the budget is on or off;
# a budget that is on also checks each call against its limits. BUDGET_NEVER_REACHED
# is on, but no run reaches it (the options flow allows at most 10,000): the check
# costs the same whatever the limit.
PER_HOUR, PER_DAY = "max_calls_per_hour", "max_calls_per_day"
BUDGET_OFF = {PER_HOUR: 0, PER_DAY: 0}
BUDGET_NEVER_REACHED = 1_000_000
BUDGET_ON = {PER_HOUR: BUDGET_NEVER_REACHED, PER_DAY: BUDGET_NEVER_REACHED}
# The options (CONF_COOLDOWN, CONF_MAX_CONCURRENT_CALLS, the budget) of the accounts:
# the benchmark's own (cooldown 0, otherwise every identical call after the first is
# suppressed; a limit of 100, as the default 4 would serialize the concurrent calls;
# no budget), and one with the default rails: their cooldown, each call to a number of
# its own, and a budget that counts every call.
BENCH_OPTIONS = {"cooldown": 0, "max_concurrent_calls": 100} | BUDGET_OFF
RAILS_OPTIONS = {"cooldown": 30, "max_concurrent_calls": 100} | BUDGET_ON
RAILS_UNIQUE_ID = "rails"
# An account with the default rails (a limit of 4 simultaneous calls, the 30 s
# cooldown, a budget that counts) for the queue.
QUEUE_OPTIONS = BUDGET_ON
QUEUE_UNIQUE_ID = "queue"
QUEUE_LIMIT = 4  # the default simultaneous-call limit
# Two accounts like the benchmark's, identical but for the budget, and used by one
# measure only (so each has counted as many calls as the other): one with a budget
# that checks every call and refuses none, one with the budget off. What the budget
# costs.
BUDGET_ON_OPTIONS = BENCH_OPTIONS | BUDGET_ON
BUDGET_ON_UNIQUE_ID = "budget_on"
BUDGET_OFF_UNIQUE_ID = "budget_off"
# A runaway script's account: the default rails (30 s cooldown, limit 4) with a
# budget of FLOOD_BUDGET calls an hour, which a flood of calls uses up, and no daily
# budget (the default 200 a day would refuse the fifth flood's calls).
FLOOD_BUDGET = 50
FLOOD_OPTIONS = {PER_HOUR: FLOOD_BUDGET, PER_DAY: 0}
FLOOD_UNIQUE_ID = "flood"
# The escalation: each number rings first; the first two reject (…486) at once, the
# third answers.
# National numbers: no "+" to escape in the script's urlencoded template.
ESCALATION_NUMBERS = ("01632960486", "01632961486", "01632960962")
SCRIPT_NAME = "escalate_with_rest_command"
# "Ring each number until one answers", as a user would write it without the action.
ESCALATION_SCRIPT: dict[str, Any] = {
    SCRIPT_NAME: {
        "sequence": [
            {"variables": {"numbers": list(ESCALATION_NUMBERS)}},
            {
                "repeat": {
                    "sequence": [
                        {
                            "action": f"rest_command.{REST_WAIT_NAME}",
                            "data": {"source": "{{ numbers[repeat.index - 1] }}"},
                            "response_variable": "reply",
                        }
                    ],
                    "until": (
                        "{{ reply.content.startswith('OK:')"
                        " or repeat.index >= numbers | length }}"
                    ),
                }
            },
        ]
    }
}
# Core's input_button: what Home Assistant's entity-service path and a button's state
# write cost by themselves, a floor for a press that sends nothing.
FLOOR_BUTTON = "input_button.bench"
