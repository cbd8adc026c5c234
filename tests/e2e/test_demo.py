"""A user's first session with the demo, in a real browser, step after step.

The steps share one Home Assistant and one tab, in order, as a user's session does:
log in, add a second account (a wrong token first), add a contact to it, press a
contact on the demo's dashboard, ring until answered from the action tool. Each step
checks what the simulator received and what the page shows, and keeps a screenshot
in tests/e2e/artifacts/<release>/.

scripts/e2e runs the same steps on the newest Home Assistant (2026.11) and on the
oldest supported, 2025.4. Where their frontends differ (the README's directions name
both paths), a step branches on `oldest(instance)` and says which release it handles.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import time

from playwright.sync_api import Page, expect
import pytest

from .conftest import TOKENS, WRONG_TOKEN, Instance, screenshot

pytestmark = pytest.mark.e2e

DOMAIN = "spectronics_voip"
OTHER_EXTENSION = "7654321"  # the demo's own account is 1234567


def oldest(instance: Instance) -> bool:
    """Return whether the instance runs Home Assistant 2025.4, the oldest supported.

    Its frontend differs from 2026.x's where a step branches on this.
    """
    return instance.release_before(2025, 5)


def test_start_up_output_is_calm(instance: Instance) -> None:
    """The start-up output has no traceback, no error and no token; notes say why."""
    output = instance.output()
    assert "Traceback" not in output
    assert not [
        line for line in instance.lines if re.search(r" (ERROR|CRITICAL) ", line)
    ]
    assert not [line for line in instance.lines if " WARNING " in line]
    for token in TOKENS:
        assert token not in output
    assert output.count("note: ") <= 2  # what was left out, said once
    ready = [line for line in instance.lines if line.startswith("==> Ready")]
    assert len(ready) == 1
    assert f"{instance.url}/phone-calls/demo" in ready[0]
    assert instance.demo["username"] in output
    assert instance.demo["password"] in output
    # The demo's account was checked once by its config flow and once at set-up,
    # without a destination: nothing rang.
    checks = [r for r in instance.requests() if "destination" not in r.fields]
    assert [(r.fields["extension"], r.reply) for r in checks] == [
        ("1234567", "ERR:No destination specified")
    ] * 2


def test_log_in(page: Page, instance: Instance) -> None:
    """The login the start-up printed opens the demo's dashboard."""
    page.goto(instance.demo["dashboard"])
    page.get_by_label("Username").fill(instance.demo["username"])
    page.get_by_role("textbox", name="Password").fill(instance.demo["password"])
    screenshot(page, "01-login")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/phone-calls/demo$"))
    expect(page.locator("hui-tile-card", has_text="Front door")).to_be_visible()
    expect(page.locator("hui-tile-card", has_text="Mobile")).to_be_visible()
    sidebar = page.locator("ha-sidebar")
    if oldest(instance):
        # Home Assistant 2025.4: the logbook is "Logbook", and "Developer tools" has its
        # own place in the sidebar.
        expect(sidebar.get_by_text("Logbook", exact=True)).to_be_visible()
        expect(sidebar.get_by_text("Developer tools", exact=True)).to_be_visible()
    else:
        # 2026.x: the logbook is "Activity"; the developer tools are Settings → Tools.
        expect(sidebar.get_by_text("Activity", exact=True)).to_be_visible()
        expect(sidebar.get_by_text("Developer tools", exact=True)).to_have_count(0)
    screenshot(page, "02-dashboard-after-login")
    assert instance.new_requests(0) == []  # logging in rings nothing


def test_add_integration_wrong_token_then_right(page: Page, instance: Instance) -> None:
    """A wrong token shows the translated error in the dialog; the right one adds it."""
    page.goto("/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    brands = page.locator("dialog-add-integration")
    # Into the search field itself: 2025.4 does not focus it, and there a key typed
    # on the page opens a command palette.
    brands.get_by_role("textbox").first.fill("Spectronics")
    brands.get_by_text("Spectronics VoIP").first.click()
    dialog = page.locator("dialog-data-entry-flow")
    expect(dialog.get_by_text("Connect to Spectronics VoIP")).to_be_visible()
    token = dialog.get_by_role("textbox", name="API token")
    token.fill(WRONG_TOKEN)
    dialog.get_by_role("textbox", name="Extension").fill(OTHER_EXTENSION)
    dialog.get_by_role("textbox", name="API URL").fill(instance.simulator_url)
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog.get_by_text("Spectronics refused the API token.")).to_be_visible()
    screenshot(page, "03-config-flow-wrong-token", docs="config-flow-error.png")
    [check] = instance.new_requests(1)
    assert check.fields == {"extension": OTHER_EXTENSION}
    assert check.reply == "ERR:Invalid authentication"

    token.fill(TOKENS[1])  # the simulator's token for extension 7654321 only
    expect(token).to_have_attribute("type", "password")  # dots, never the token
    dialog.get_by_role("button", name="Submit").click()
    if oldest(instance):
        # 2025.4: "Success!", then the devices found, each with an area, and Finish.
        expect(
            dialog.get_by_text(
                f"Created configuration for Extension {OTHER_EXTENSION}."
            )
        ).to_be_visible()
        expect(dialog.get_by_text(f"Extension {OTHER_EXTENSION}").last).to_be_visible()
        finish = "Finish"
    else:
        # 2026.x: "Name and assign", the device's name in a text box, Skip and finish.
        expect(dialog.get_by_text("Name and assign")).to_be_visible()
        expect(dialog.get_by_role("textbox", name="Device name")).to_have_value(
            f"Extension {OTHER_EXTENSION}"
        )
        finish = "Skip and finish"
    screenshot(page, "04-config-flow-created")
    checks = instance.new_requests(2)
    # The flow's check, then the entry's own at set-up: neither has a destination.
    assert [(c.fields, c.reply) for c in checks] == [
        ({"extension": OTHER_EXTENSION}, "ERR:No destination specified")
    ] * 2
    dialog.get_by_role("button", name=finish).click()
    expect(dialog).to_be_hidden()


def test_add_contact_to_the_new_account(page: Page, instance: Instance) -> None:
    """Add contact on the new entry gives a device with its Call and notify entities."""
    page.goto(f"/config/integrations/integration/{DOMAIN}")
    # 2025.4: one list of rows, each entry followed by its contacts; 2026.x: a card per
    # entry, with a row per contact in it. Add contact is in the entry's menu on both
    # (2026.x also has it at the top of the page).
    row = "ha-md-list-item" if oldest(instance) else "ha-config-entry-row"
    entry = page.locator(row, has_text=f"Extension {OTHER_EXTENSION}")
    expect(entry).to_be_visible()
    screenshot(page, "05-entry-page-before")
    entry.get_by_role("button", name="Menu").first.click()
    page.get_by_role("menuitem", name="Add contact").click()
    dialog = page.locator("dialog-data-entry-flow")
    expect(dialog.get_by_text("Add a contact")).to_be_visible()
    dialog.get_by_role("textbox", name="Name*", exact=True).fill("Reception")
    dialog.get_by_role("textbox", name="Number*", exact=True).fill("2002")
    screenshot(page, "06-contact-form")
    dialog.get_by_role("button", name="Submit").click()
    expect(dialog.get_by_text("Created configuration for Reception.")).to_be_visible()
    dialog.get_by_role("button", name="Finish").click()
    expect(dialog).to_be_hidden()
    assert instance.new_requests(0) == []  # nothing rings while a contact is added

    if oldest(instance):
        # 2025.4: the contact's row under its entry links its device ("1 service"); its
        # Configure button changes the contact.
        contact = page.locator("ha-md-list-item", has_text="Reception")
        expect(contact).to_contain_text("Contact - 1 service and 2 entities")
        change = contact.get_by_role("button", name="Configure")
        device = contact.get_by_role("link", name="1 service")
    else:
        # 2026.x: the contact's row holds its device's row; the gear, labelled Change
        # contact, changes the contact.
        contact = page.locator("ha-config-sub-entry-row", has_text="Reception")
        expect(contact).to_contain_text("Quick-dial contact")
        change = contact.get_by_role("button", name="Change contact")
        device = contact.get_by_role(
            "button", name=re.compile(r"^Reception Quick-dial contact")
        )
    expect(change).to_be_visible()
    entry.scroll_into_view_if_needed()
    screenshot(page, "07-entry-page-with-contact", docs="entry-page.png")
    device.click()
    expect(page).to_have_url(re.compile(r"/config/devices/device/"))
    expect(page.get_by_text("Call", exact=True).first).to_be_visible()
    expect(page.get_by_role("button", name="Press")).to_be_visible()
    screenshot(page, "08-contact-device")

    page.get_by_role("button", name="Press").click()
    [call] = instance.new_requests(1)
    assert call.fields["destination"] == "2002"
    assert call.fields["extension"] == OTHER_EXTENSION
    assert call.reply == "OK:Call request sent"


def test_dashboard_button_rings_and_shows_the_call(
    page: Page, instance: Instance
) -> None:
    """Pressing Front door on the dashboard rings 2001; Last call and the logbook say so."""
    page.goto(instance.demo["dashboard"])
    page.locator("hui-tile-card", has_text="Front door").get_by_role(
        "button", name=re.compile(r"^Front door ")
    ).click()
    [call] = instance.new_requests(1)
    assert call.fields == {
        "extension": "1234567",
        "destination": "2001",
        "reverse": "0",
        "wait": "0",
    }
    assert call.reply == "OK:Call request sent"
    last_call = page.locator("hui-entities-card", has_text="Last call")
    expect(last_call.get_by_text("Requested")).to_be_visible()
    expect(last_call.locator("hui-attribute-row", has_text="Contact")).to_contain_text(
        "Front door"
    )
    expect(last_call.locator("hui-attribute-row", has_text="Number")).to_contain_text(
        "2001"
    )
    expect(last_call.locator("hui-attribute-row", has_text="Reply")).to_contain_text(
        "Call request sent"
    )
    logbook = page.locator("hui-logbook-card")
    if oldest(instance):
        # 2025.4 words Last call's new state as "detected an event".
        expect(logbook.get_by_text("detected an event")).to_be_visible()
    else:
        # 2026.x names the event type.
        expect(logbook.get_by_text("Requested", exact=True)).to_be_visible()
    # The integration's own sentence, filed under Last call.
    expect(logbook.get_by_text("Call to Front door (2001) requested")).to_be_visible()
    screenshot(page, "09-dashboard-after-press", docs="dashboard.png")


def test_call_until_answered_from_the_action_tool(
    page: Page, instance: Instance
) -> None:
    """In UI mode, two contacts: the first answers, so the second is never rung."""
    page.goto(instance.demo["dashboard"])
    sidebar = page.locator("ha-sidebar")
    if oldest(instance):
        # 2025.4: Developer tools, in the sidebar.
        sidebar.get_by_text("Developer tools", exact=True).click()
    else:
        # 2026.x: Settings → Tools.
        sidebar.get_by_text("Settings", exact=True).click()
        page.get_by_text("Tools", exact=True).click()
    page.get_by_role("tab", name="Actions").click()
    expect(page.get_by_role("button", name="Perform action")).to_be_visible()
    if oldest(instance):
        # 2025.4: the action and each entity are typed into a combo box, whose list
        # drops down under it.
        page.locator("ha-service-picker").get_by_role("combobox").fill(
            "Call until answered"
        )
        page.get_by_text(f"{DOMAIN}.call_until_answered").click()
    else:
        # 2026.x: a picker dialog with a search field, for the action and each entity.
        page.locator("ha-service-picker").click()
        picker = page.get_by_role("dialog", name="Select option")
        picker.get_by_placeholder("Search").fill("Call until answered")
        picker.get_by_text(f"{DOMAIN}.call_until_answered").click()
        expect(picker).to_be_hidden()
    contacts = page.locator("ha-settings-row", has_text="The contacts to ring")
    contacts.locator("ha-checkbox").click()
    expect(contacts.get_by_role("checkbox")).to_be_checked()
    for index, name in enumerate(("Front door", "Mobile")):
        if oldest(instance):
            contacts.get_by_role("combobox").nth(index).fill(name)
            page.get_by_role("option", name=name).first.click()
            continue
        if index == 0:
            contacts.locator("ha-combo-box-item", has_text="Select an entity").click()
        else:
            contacts.get_by_role("button", name="Add entity").click()
        picker = page.get_by_role("dialog", name="Select option")
        picker.get_by_placeholder("Search").fill(name)
        picker.locator("ha-combo-box-item", has_text=name).first.click()
        expect(picker).to_be_hidden()
    screenshot(page, "10-action-form")
    page.get_by_role("button", name="Perform action").click()
    [call] = instance.new_requests(1, settle=2.0)
    assert call.fields["destination"] == "2001"
    assert call.fields["wait"] == "1"
    assert call.reply == "OK:Call answered"
    response = page.get_by_text("answered_by: Front door")
    expect(response).to_be_visible()
    response.scroll_into_view_if_needed()
    screenshot(page, "11-action-response")


def test_ctrl_c_stops_everything(instance: Instance) -> None:
    """Ctrl-C (SIGINT to the terminal's process group) stops it all, calmly."""
    os.killpg(instance.process.pid, signal.SIGINT)
    assert instance.process.wait(60) == 130
    deadline = time.monotonic() + 10
    while "Stopped Home Assistant and the simulator." not in instance.lines:
        assert time.monotonic() < deadline, instance.output()[-2000:]
        time.sleep(0.1)
    output = instance.output()
    assert "Traceback" not in output
    for secret in (*TOKENS, WRONG_TOKEN):
        assert secret not in output
    for url in (instance.url, instance.simulator_url):
        port = int(url.split(":")[2].split("/")[0])
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0  # nothing listens
