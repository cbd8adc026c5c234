"""The blueprints, loaded by Home Assistant's blueprint machinery, run against the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from pathlib import Path
import re
import shutil
from typing import Any
from urllib.parse import unquote

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
import yaml

from custom_components.spectronics_voip.const import DOMAIN
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.components.blueprint import importer
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component

from .common import (
    LAST_CALL,
    contact_id,
    entry_device,
    free_port,
    make_entry,
    translated,
)
from .simulator import EXTENSION, OTHER_EXTENSION, Fault, Simulator

ROOT = Path(__file__).parent.parent
BLUEPRINTS = ROOT / "blueprints" / "automation" / DOMAIN
BLUEPRINTS_PAGE = ROOT / "docs" / "blueprints.md"
ALARM = "alarm_call_until_answered.yaml"
DOORBELL = "doorbell_ring_extension.yaml"
ASSIST = "assist_call_contact.yaml"
RAW = "https://raw.githubusercontent.com/spectronics-voip/ha-spectronics-voip/main/"

# Contacts whose own phone rings first: Me's number answers, Partner's rejects (the
# simulator rejects a number ending in 486 when it rings first), Neighbour's rings out
# (408), Gran's extension answers. Mum and Front door are quick dial: the account's
# extension rings first, then their number.
ME = "07700900001"
PARTNER = "07700900486"
NEIGHBOUR = "07700900408"
GRAN = OTHER_EXTENSION
MUM = "07700900123"
DOOR = "2001"
CONTACTS: dict[str, dict[str, Any]] = {
    "Me": {"destination": ME, "ring_first": "contact_number"},
    "Partner": {"destination": PARTNER, "ring_first": "contact_number"},
    "Neighbour": {"destination": NEIGHBOUR, "ring_first": "contact_number"},
    "Gran": {
        "destination": GRAN,
        "ring_first": "contact_extension",
        "cidname": "FROM HOME",
    },
    "Mum": {"destination": MUM},
    "Front door": {"destination": DOOR, "cidname": "FRONT DOOR"},
}
PANEL = "alarm_control_panel.home"
NOBODY_ANSWERED = [
    {
        "action": "persistent_notification.create",
        "data": {
            "message": "Nobody answered after "
            "{{ escalation.attempts | count if escalation is defined else 'no' }}"
            " attempts"
        },
    }
]


@pytest.fixture
def blueprint_folder(hass: HomeAssistant, tmp_path: Path) -> Generator[Path]:
    """Copy the blueprints where a user puts them by hand, in a fresh config folder."""
    folder = tmp_path / "blueprints" / "automation" / DOMAIN
    shutil.copytree(BLUEPRINTS, folder)
    config_dir = hass.config.config_dir
    hass.config.config_dir = str(tmp_path)
    yield folder
    hass.config.config_dir = config_dir


@pytest.fixture
async def account(
    hass: HomeAssistant, simulator: Simulator, blueprint_folder: Path
) -> MockConfigEntry:
    """Set up an account with contacts, the simulator answering quickly."""
    simulator.ring_time = 0.01
    entry = make_entry(simulator.url, contacts=CONTACTS)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _automate(
    hass: HomeAssistant, blueprint: str, inputs: dict[str, Any]
) -> None:
    """Create an automation from the blueprint, as the UI stores it, and check it is on."""
    config = {
        "alias": "From blueprint",
        "use_blueprint": {"path": f"{DOMAIN}/{blueprint}", "input": inputs},
    }
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    await hass.async_block_till_done()
    state = hass.states.get("automation.from_blueprint")
    assert state is not None
    assert state.state == "on", state.attributes


def _rung(simulator: Simulator) -> list[tuple[str, str, str | None]]:
    """Return each call that rang a phone: the phone rung first, the destination, cidname.

    The destination is dialled once the phone rung first answers (none of these calls
    is reversed).
    """
    return [
        (first, call["destination"], call.get("cidname"))
        for first, call in zip(simulator.rung_first, simulator.calls, strict=True)
    ]


def _messages(calls: list[ServiceCall]) -> list[str]:
    """Return the messages of mocked notifications."""
    return [call.data["message"] for call in calls]


# Loading


@pytest.mark.usefixtures("blueprint_folder")
async def test_blueprints_load(hass: HomeAssistant) -> None:
    """Home Assistant loads all three from the blueprint folder, with their inputs."""
    assert await async_setup_component(hass, "automation", {})
    found = await async_get_blueprints(hass).async_get_blueprints()

    ours = {path: bp for path, bp in found.items() if path.startswith(f"{DOMAIN}/")}
    assert set(ours) == {f"{DOMAIN}/{name}" for name in (ALARM, DOORBELL, ASSIST)}
    inputs: dict[str, dict[str, Any]] = {}
    for path, blueprint in ours.items():
        assert isinstance(blueprint, Blueprint), blueprint
        assert blueprint.domain == "automation"
        assert blueprint.metadata["source_url"].endswith(path.removeprefix(DOMAIN))
        # Each says which phone its calls ring first.
        assert "rings first" in blueprint.metadata["description"], path
        inputs[path.split("/")[1]] = blueprint.inputs
    assert set(inputs[ALARM]) == {
        "alarm_panel",
        "contacts",
        "destinations",
        "cidname",
        "rounds",
        "delay",
        "when_nobody_answers",
    }
    assert inputs[ALARM]["cidname"]["default"] == "ALARM"
    assert inputs[ALARM]["rounds"]["default"] == 2
    assert inputs[ALARM]["when_nobody_answers"]["default"] == []
    assert set(inputs[DOORBELL]) == {"doorbell", "contact", "destination", "cidname"}
    assert inputs[DOORBELL]["cidname"]["default"] == "DOORBELL"
    assert inputs[ASSIST]["sentences"]["default"] == [
        "call {contact}",
        "ring {contact}",
    ]
    for name, blueprint_inputs in inputs.items():
        for key, spec in blueprint_inputs.items():
            assert spec.get("description"), (name, key)
            assert spec.get("selector"), (name, key)


@pytest.mark.parametrize(
    ("blueprint", "inputs"),
    [
        (ALARM, {"contacts": ["button.me_call"]}),
        (DOORBELL, {"contact": "button.mum_call"}),
        (ASSIST, {"sentences": ["call {contact}!"]}),
        (ASSIST, {"sentences": []}),
    ],
    ids=["no-panel", "no-doorbell", "punctuation", "no-sentence"],
)
@pytest.mark.usefixtures("blueprint_folder")
async def test_invalid_inputs_are_refused(
    hass: HomeAssistant, blueprint: str, inputs: dict[str, Any]
) -> None:
    """An automation whose inputs break the blueprint's rules is not turned on."""
    config = {
        "alias": "From blueprint",
        "use_blueprint": {"path": f"{DOMAIN}/{blueprint}", "input": inputs},
    }
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    await hass.async_block_till_done()

    state = hass.states.get("automation.from_blueprint")
    assert state is None or state.state == "unavailable"


async def test_import_from_the_blueprints_page(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Each import link of docs/blueprints.md names a raw file the importer accepts."""
    page = BLUEPRINTS_PAGE.read_text(encoding="utf-8")
    links = re.findall(
        r"https://my\.home-assistant\.io/redirect/blueprint_import/"
        r"\?blueprint_url=([^)\s]+)",
        page,
    )
    urls = [unquote(link) for link in links]
    assert sorted(urls) == sorted(
        f"{RAW}blueprints/automation/{DOMAIN}/{name}"
        for name in (ALARM, DOORBELL, ASSIST)
    )
    for url in urls:
        text = (ROOT / url.removeprefix(RAW)).read_text(encoding="utf-8")
        aioclient_mock.get(url, text=text)

        imported = await importer.fetch_blueprint_from_url(hass, url)

        assert imported.blueprint.domain == "automation"
        assert imported.raw_data == text
        assert imported.suggested_filename == (
            "spectronics-voip/" + url.rsplit("/", 1)[1].removesuffix(".yaml")
        )


# Alarm


@pytest.mark.usefixtures("account")
async def test_alarm_stops_at_the_first_answer(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Partner rejects, I answer: each one's own phone rung first; no notification."""
    created = async_mock_service(hass, "persistent_notification", "create")
    hass.states.async_set(PANEL, "armed_away")
    await _automate(
        hass,
        ALARM,
        {
            "alarm_panel": PANEL,
            "contacts": ["button.partner_call", "button.me_call", "button.gran_call"],
            "when_nobody_answers": NOBODY_ANSWERED,
        },
    )

    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()

    # Each number is sent as the source and connected to the account's extension.
    assert _rung(simulator) == [(PARTNER, EXTENSION, "ALARM"), (ME, EXTENSION, "ALARM")]
    assert [call["source"] for call in simulator.calls] == [PARTNER, ME]
    assert {call["wait"] for call in simulator.calls} == {"1"}
    assert created == []


async def test_alarm_rings_people_while_the_extension_never_answers(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """A house phone nobody answers: Neighbour's phone rings out, Gran's answers."""
    simulator.phones[EXTENSION] = "timeout"
    created = async_mock_service(hass, "persistent_notification", "create")
    hass.states.async_set(PANEL, "armed_away")
    await _automate(
        hass,
        ALARM,
        {
            "alarm_panel": PANEL,
            "contacts": ["button.neighbour_call", "button.gran_call"],
            "when_nobody_answers": NOBODY_ANSWERED,
        },
    )

    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()

    # Neighbour's number as the source, Gran's extension as the extension: the
    # account's extension is never rung first, so its silence changes nothing.
    assert simulator.rung_first == [NEIGHBOUR, GRAN]
    assert [(call.get("source"), call["extension"]) for call in simulator.calls] == [
        (NEIGHBOUR, EXTENSION),
        (None, GRAN),
    ]
    assert created == []
    state = hass.states.get(LAST_CALL)
    assert state is not None
    assert state.attributes["event_type"] == "answered"
    assert state.attributes["contact"] == "Gran"
    assert state.attributes["rings_first"] == GRAN


@pytest.mark.usefixtures("account")
async def test_alarm_refuses_a_quick_dial_contact(
    hass: HomeAssistant, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A quick-dial contact: nothing is sent, the error is logged, the actions run."""
    created = async_mock_service(hass, "persistent_notification", "create")
    hass.states.async_set(PANEL, "armed_away")
    await _automate(
        hass,
        ALARM,
        {
            "alarm_panel": PANEL,
            "contacts": ["button.me_call", "button.mum_call"],
            "when_nobody_answers": NOBODY_ANSWERED,
        },
    )

    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()

    assert simulator.calls == []
    assert _messages(created) == ["Nobody answered after no attempts"]
    assert translated("contact_rings_your_extension", {"name": "Mum"}) in caplog.text


@pytest.mark.usefixtures("account")
async def test_alarm_nobody_answers(hass: HomeAssistant, simulator: Simulator) -> None:
    """Every round rings every contact in order; then the actions run, once."""
    created = async_mock_service(hass, "persistent_notification", "create")
    hass.states.async_set(PANEL, "disarmed")
    await _automate(
        hass,
        ALARM,
        {
            "alarm_panel": PANEL,
            "contacts": ["button.partner_call", "button.neighbour_call"],
            "cidname": "ALARM: HALL",
            "rounds": 3,
            "when_nobody_answers": NOBODY_ANSWERED,
        },
    )

    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()

    assert (
        _rung(simulator)
        == [
            (PARTNER, EXTENSION, "ALARM: HALL"),
            (NEIGHBOUR, EXTENSION, "ALARM: HALL"),
        ]
        * 3
    )
    assert _messages(created) == ["Nobody answered after 6 attempts"]


@pytest.mark.usefixtures("account")
async def test_alarm_rounds_kept_within_limits(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Home Assistant does not check inputs against selectors: 25 rounds ring 10."""
    hass.states.async_set(PANEL, "armed_away")
    await _automate(
        hass,
        ALARM,
        {"alarm_panel": PANEL, "contacts": ["button.partner_call"], "rounds": 25},
    )

    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()

    assert _rung(simulator) == [(PARTNER, EXTENSION, "ALARM")] * 10


async def test_alarm_destinations(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """Numbers ring first as typed (a leading + kept), in order, until one answers."""
    created = async_mock_service(hass, "persistent_notification", "create")
    hass.states.async_set(PANEL, "armed_home")
    numbers = ["+447700900486", "+447700900408", "2001", "+447700900123"]
    await _automate(
        hass,
        ALARM,
        {
            "alarm_panel": PANEL,
            "destinations": numbers,
            "rounds": 1,
            "delay": 0.01,
            "when_nobody_answers": NOBODY_ANSWERED,
        },
    )

    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()

    # Each rings first and is connected to the account's extension.
    assert _rung(simulator) == [
        ("+447700900486", EXTENSION, "ALARM"),
        ("+447700900408", EXTENSION, "ALARM"),
        ("2001", EXTENSION, "ALARM"),
    ]
    assert created == []

    # With the account's "Connect to" option, that is what they connect to. Nobody at
    # any number: the notification. (Within the cooldown, 2001's answered call would
    # count as answered again: turn it off for this part.)
    hass.config_entries.async_update_entry(
        account, options={"cooldown": 0, "connect_to": "07700900999"}
    )
    simulator.phones |= {"2001": "timeout", "+447700900123": "reject"}
    simulator.calls.clear()
    simulator.rung_first.clear()
    hass.states.async_set(PANEL, "armed_home")
    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()
    assert _rung(simulator) == [(number, "07700900999", "ALARM") for number in numbers]
    assert _messages(created) == ["Nobody answered after 4 attempts"]


async def test_alarm_example_of_the_blueprints_page(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """The page's automation from the blueprint rings me, then my partner, twice."""
    page = BLUEPRINTS_PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", page, re.DOTALL)
    [config] = [
        yaml.safe_load(block) for block in blocks if f"{DOMAIN}/{ALARM}" in block
    ]
    created = async_mock_service(hass, "persistent_notification", "create")
    hass.config_entries.async_update_entry(account, options={"cooldown": 0})
    hass.states.async_set(PANEL, "armed_away")
    assert await async_setup_component(hass, "automation", {"automation": config})
    await hass.async_block_till_done()

    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()
    assert _rung(simulator) == [(ME, EXTENSION, "ALARM")]
    assert created == []

    # My phone rings out too: two rounds of both, then the notification.
    simulator.phones[ME] = "timeout"
    simulator.calls.clear()
    simulator.rung_first.clear()
    hass.states.async_set(PANEL, "armed_away")
    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()
    assert simulator.rung_first == [ME, PARTNER] * 2
    assert _messages(created) == ["Nobody answered the burglar alarm"]


@pytest.mark.usefixtures("account")
async def test_alarm_empty_caller_name_uses_the_contacts(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """An empty caller name is not sent: each contact shows its own."""
    hass.states.async_set(PANEL, "armed_away")
    await _automate(
        hass,
        ALARM,
        {
            "alarm_panel": PANEL,
            "contacts": ["button.partner_call", "button.gran_call"],
            "cidname": "",
        },
    )

    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()

    assert _rung(simulator) == [
        (PARTNER, EXTENSION, None),
        (GRAN, EXTENSION, "FROM HOME"),
    ]


@pytest.mark.usefixtures("account")
async def test_alarm_runs_once_per_alarm(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Triggering again while it rings starts nothing; a later alarm rings again."""
    created = async_mock_service(hass, "persistent_notification", "create")
    simulator.ring_time = 0.2
    hass.states.async_set(PANEL, "armed_away")
    await _automate(
        hass,
        ALARM,
        {
            "alarm_panel": PANEL,
            "contacts": ["button.partner_call", "button.neighbour_call"],
            "rounds": 1,
            "when_nobody_answers": NOBODY_ANSWERED,
        },
    )

    hass.states.async_set(PANEL, "triggered")
    async with asyncio.timeout(5):
        while not simulator.in_flight:  # the first call is ringing
            await asyncio.sleep(0.01)
    hass.states.async_set(PANEL, "armed_away")
    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()

    assert _rung(simulator) == [
        (PARTNER, EXTENSION, "ALARM"),
        (NEIGHBOUR, EXTENSION, "ALARM"),
    ]
    assert _messages(created) == ["Nobody answered after 2 attempts"]

    hass.states.async_set(PANEL, "armed_away")
    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()
    assert len(_rung(simulator)) == 4
    assert len(created) == 2


@pytest.mark.parametrize("before", ["unavailable", "unknown"])
@pytest.mark.usefixtures("account")
async def test_alarm_restart_does_not_ring(
    hass: HomeAssistant, simulator: Simulator, before: str
) -> None:
    """A panel restored as triggered (after a restart) rings nobody again."""
    hass.states.async_set(PANEL, before)
    await _automate(hass, ALARM, {"alarm_panel": PANEL, "contacts": ["button.me_call"]})

    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()

    assert _rung(simulator) == []


@pytest.mark.parametrize(
    ("lists", "error"),
    [
        ({}, "attempts_none"),
        ({"contacts": ["button.me_call"], "destinations": [ME]}, "attempts_both"),
    ],
    ids=["neither", "both"],
)
@pytest.mark.usefixtures("account")
async def test_alarm_without_one_list_calls_nobody_and_says_so(
    hass: HomeAssistant,
    simulator: Simulator,
    lists: dict[str, list[str]],
    error: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The action refuses neither or both lists; the "nobody answered" actions run."""
    created = async_mock_service(hass, "persistent_notification", "create")
    hass.states.async_set(PANEL, "armed_away")
    await _automate(
        hass,
        ALARM,
        {"alarm_panel": PANEL, "when_nobody_answers": NOBODY_ANSWERED, **lists},
    )

    hass.states.async_set(PANEL, "triggered")
    await hass.async_block_till_done()

    assert _rung(simulator) == []
    assert _messages(created) == ["Nobody answered after no attempts"]
    assert translated(error) in caplog.text


# Doorbell


async def test_doorbell_sensor_rings_a_number(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """Your extension rings first with DOORBELL, then the number; held, it rings once."""
    sensor = "binary_sensor.doorbell"
    hass.states.async_set(sensor, "off")
    await _automate(
        hass, DOORBELL, {"doorbell": sensor, "destination": "+442079460958"}
    )

    hass.states.async_set(sensor, "on")
    await hass.async_block_till_done()
    assert _rung(simulator) == [(EXTENSION, "+442079460958", "DOORBELL")]
    assert "source" not in simulator.calls[0]
    assert simulator.calls[0]["wait"] == "0"

    # Held (attributes change, the state stays on): nothing more.
    hass.states.async_set(sensor, "on", {"pressed_for": 2})
    await hass.async_block_till_done()
    # Pressed again within the cooldown: suppressed, nothing rings.
    hass.states.async_set(sensor, "off")
    hass.states.async_set(sensor, "on")
    await hass.async_block_till_done()
    assert len(_rung(simulator)) == 1

    # Without the cooldown: going unavailable and coming back on is not a press,
    # turning on from off is.
    hass.config_entries.async_update_entry(account, options={"cooldown": 0})
    for state in ("unavailable", "on", "unknown", "on"):
        hass.states.async_set(sensor, state)
        await hass.async_block_till_done()
    assert len(_rung(simulator)) == 1
    hass.states.async_set(sensor, "off")
    hass.states.async_set(sensor, "on")
    await hass.async_block_till_done()
    assert len(_rung(simulator)) == 2


@pytest.mark.usefixtures("account")
async def test_doorbell_quick_dial_contact(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A quick-dial contact's button is pressed: your extension, its own caller name."""
    assert hass.states.get("notify.front_door") is None  # quick dial: none
    sensor = "binary_sensor.doorbell"
    hass.states.async_set(sensor, "off")
    await _automate(
        hass, DOORBELL, {"doorbell": sensor, "contact": "button.front_door_call"}
    )

    hass.states.async_set(sensor, "on")
    await hass.async_block_till_done()

    assert _rung(simulator) == [(EXTENSION, DOOR, "FRONT DOOR")]
    button = hass.states.get("button.front_door_call")
    assert button is not None
    assert button.state != "unknown"  # pressed


@pytest.mark.usefixtures("account")
async def test_doorbell_contact_whose_number_rings_first(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """A contact whose own number rings first gets DOORBELL through its notify entity."""
    sensor = "binary_sensor.doorbell"
    hass.states.async_set(sensor, "off")
    await _automate(hass, DOORBELL, {"doorbell": sensor, "contact": "button.me_call"})

    hass.states.async_set(sensor, "on")
    await hass.async_block_till_done()

    assert _rung(simulator) == [(ME, EXTENSION, "DOORBELL")]
    notify = hass.states.get("notify.me")
    assert notify is not None
    assert notify.state != "unknown"  # the message went through it
    button = hass.states.get("button.me_call")
    assert button is not None
    assert button.state == "unknown"  # never pressed


async def test_doorbell_event_rings_a_contact(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """Each new event rings Gran's extension first with the caller name."""
    hass.config_entries.async_update_entry(account, options={"cooldown": 0})
    ding = "event.front_door_ding"
    hass.states.async_set(ding, "unknown", {"event_types": ["ring"]})
    await _automate(hass, DOORBELL, {"doorbell": ding, "contact": "button.gran_call"})

    # The first event ever (from unknown), then a second one.
    for stamp in ("2025-06-01T10:00:00.000+00:00", "2025-06-01T10:05:00.000+00:00"):
        hass.states.async_set(ding, stamp, {"event_type": "ring"})
        await hass.async_block_till_done()
    assert _rung(simulator) == [(GRAN, EXTENSION, "DOORBELL")] * 2

    # Only the attributes change (the same event): no call.
    hass.states.async_set(
        ding, "2025-06-01T10:05:00.000+00:00", {"event_type": "ring", "extra": 1}
    )
    await hass.async_block_till_done()
    assert len(_rung(simulator)) == 2

    # Unavailable, and back with the last event restored: no call.
    hass.states.async_set(ding, "unavailable")
    await hass.async_block_till_done()
    hass.states.async_set(ding, "2025-06-01T10:05:00.000+00:00")
    await hass.async_block_till_done()
    assert len(_rung(simulator)) == 2


async def test_doorbell_contact_without_its_notify_entity(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """With the contact's notify entity disabled, its button rings with its own name."""
    registry = er.async_get(hass)
    registry.async_update_entity(
        "notify.gran", disabled_by=er.RegistryEntryDisabler.USER
    )
    assert await hass.config_entries.async_reload(account.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("notify.gran") is None
    sensor = "binary_sensor.doorbell"
    hass.states.async_set(sensor, "off")
    await _automate(hass, DOORBELL, {"doorbell": sensor, "contact": "button.gran_call"})

    hass.states.async_set(sensor, "on")
    await hass.async_block_till_done()

    assert _rung(simulator) == [(GRAN, EXTENSION, "FROM HOME")]


async def test_doorbell_quick_dial_contact_with_a_stale_notify_entity(
    hass: HomeAssistant, simulator: Simulator, account: MockConfigEntry
) -> None:
    """A notify entity no longer provided (0.1's quick dial had one): the button rings."""
    device = entry_device(hass, account, contact_id(account, "Front door"))
    assert device is not None
    er.async_get(hass).async_get_or_create(
        "notify",
        DOMAIN,
        f"{account.entry_id}_{contact_id(account, 'Front door')}_notify",
        config_entry=account,
        device_id=device.id,
        suggested_object_id="front_door",
    )
    # What Home Assistant shows for a registered entity that nothing provides.
    hass.states.async_set("notify.front_door", "unavailable", {"restored": True})
    sensor = "binary_sensor.doorbell"
    hass.states.async_set(sensor, "off")
    await _automate(
        hass, DOORBELL, {"doorbell": sensor, "contact": "button.front_door_call"}
    )

    hass.states.async_set(sensor, "on")
    await hass.async_block_till_done()

    assert _rung(simulator) == [(EXTENSION, DOOR, "FRONT DOOR")]


@pytest.mark.usefixtures("account")
async def test_doorbell_contact_and_number(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """Both given: the contact rings, then the number, each with the caller name."""
    sensor = "binary_sensor.doorbell"
    hass.states.async_set(sensor, "off")
    await _automate(
        hass,
        DOORBELL,
        {
            "doorbell": sensor,
            "contact": "button.gran_call",
            "destination": DOOR,
            "cidname": "+4420",  # kept as typed, not read as a number
        },
    )

    hass.states.async_set(sensor, "on")
    await hass.async_block_till_done()

    assert _rung(simulator) == [
        (GRAN, EXTENSION, "+4420"),
        (EXTENSION, DOOR, "+4420"),
    ]


@pytest.mark.usefixtures("account")
async def test_doorbell_with_nothing_to_ring(
    hass: HomeAssistant, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither a contact nor a number: nothing rings, and the log says what to fix."""
    sensor = "binary_sensor.doorbell"
    hass.states.async_set(sensor, "off")
    await _automate(hass, DOORBELL, {"doorbell": sensor})

    hass.states.async_set(sensor, "on")
    await hass.async_block_till_done()

    assert _rung(simulator) == []
    assert "Choose a contact or enter a number" in caplog.text


# Assist


async def _say(hass: HomeAssistant, text: str) -> str:
    """Give a sentence to the conversation agent and return its spoken answer."""
    result = await hass.services.async_call(
        "conversation",
        "process",
        {"text": text, "language": "en"},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    response: Any = result["response"]
    speech: str = response["speech"]["plain"]["speech"]
    return speech


@pytest.fixture
async def assist(hass: HomeAssistant, account: MockConfigEntry) -> MockConfigEntry:
    """Set up the conversation agent (its HTTP server, if ever started, on loopback)."""
    assert await async_setup_component(
        hass,
        "http",
        {"http": {"server_host": ["127.0.0.1"], "server_port": free_port()}},
    )
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    await hass.async_block_till_done()
    return account


async def test_assist_calls_a_contact(
    hass: HomeAssistant, simulator: Simulator, assist: MockConfigEntry
) -> None:
    """Saying "call Mum" presses that contact's button, whatever its kind, and says so."""
    await _automate(hass, ASSIST, {})

    assert await _say(hass, "call Mum") == "Calling Mum"
    # Quick dial: your extension rings first, then Mum's number.
    assert _rung(simulator) == [(EXTENSION, MUM, None)]
    assert simulator.calls[0]["wait"] == "0"  # the contact's own settings

    hass.config_entries.async_update_entry(assist, options={"cooldown": 0})
    assert await _say(hass, "ring mum") == "Calling Mum"
    assert await _say(hass, "Ring front door") == "Calling Front door"
    # Gran's own extension rings first, then the account's extension.
    assert await _say(hass, "call gran") == "Calling Gran"
    assert _rung(simulator)[1:] == [
        (EXTENSION, MUM, None),
        (EXTENSION, DOOR, "FRONT DOOR"),
        (GRAN, EXTENSION, "FROM HOME"),
    ]


@pytest.mark.usefixtures("assist")
async def test_assist_unknown_contact(
    hass: HomeAssistant, simulator: Simulator
) -> None:
    """An unknown name calls nobody and says so."""
    await _automate(hass, ASSIST, {})

    assert await _say(hass, "call Nobody") == "I have no contact called Nobody"
    assert _rung(simulator) == []


async def test_assist_renamed_device(
    hass: HomeAssistant, simulator: Simulator, assist: MockConfigEntry
) -> None:
    """The name the user gave the contact's device is understood too."""
    device = entry_device(hass, assist, contact_id(assist, "Mum"))
    assert device is not None
    dr.async_get(hass).async_update_device(device.id, name_by_user="Mother")
    await _automate(hass, ASSIST, {})

    assert await _say(hass, "call mother") == "Calling Mother"
    assert _rung(simulator) == [(EXTENSION, MUM, None)]


@pytest.mark.usefixtures("assist")
async def test_assist_own_sentences(hass: HomeAssistant, simulator: Simulator) -> None:
    """Sentences added in the input work, in another language too."""
    await _automate(
        hass,
        ASSIST,
        {"sentences": ["call {contact}", "ruf {contact} an", "phone [the] {contact}"]},
    )

    assert await _say(hass, "ruf Mum an") == "Calling Mum"
    assert await _say(hass, "phone the neighbour") == "Calling Neighbour"
    assert _rung(simulator) == [
        (EXTENSION, MUM, None),
        (NEIGHBOUR, EXTENSION, None),
    ]
    # "ring" was left out of this list: Home Assistant's own intents answer instead.
    assert await _say(hass, "ring Me") != "Calling Me"
    assert len(_rung(simulator)) == 2


async def test_assist_failed_call(
    hass: HomeAssistant, simulator: Simulator, assist: MockConfigEntry
) -> None:
    """A call the provider refuses is told, with the provider's message."""
    await _automate(hass, ASSIST, {})
    simulator.set_fault(Fault(body=b"ERR:Call rejected"))

    assert await _say(hass, "call Mum") == "I could not call Mum: Call rejected"
    assert [request.fields["destination"] for request in simulator.requests[1:]] == [
        MUM
    ]

    # A number refused before sending (the allowlist): nothing sent, no "Calling".
    simulator.set_fault(None)
    hass.config_entries.async_update_entry(assist, options={"allowed_numbers": [DOOR]})
    assert await _say(hass, "call Mum") == "I could not call Mum"
    assert await _say(hass, "call front door") == "Calling Front door"
    assert _rung(simulator) == [(EXTENSION, DOOR, "FRONT DOOR")]
