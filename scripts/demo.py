"""The Python half of scripts/develop: a state folder, its requirements, the demo.

    python scripts/demo.py prepare --config DIR [--fresh] --host H --port P
    python scripts/demo.py requirements --config DIR
    python scripts/demo.py up --config DIR --url URL --simulator-url URL

`prepare` makes DIR a configuration folder (the tracked files of config/, a link to the
integration), empties its state with --fresh, writes the HTTP address for Home Assistant
and prints the URL it will serve on. `requirements` prints the packages the development
configuration needs that are not installed. `up` waits for Home Assistant; on the first
start it onboards a demo owner, adds the integration against the simulator with two
contacts and puts a dashboard in place, all through Home Assistant's own APIs; then it
prints where to log in. It writes DIR/develop-demo.json (the login, mode 0600), which
tests/e2e reads. The simulator's token goes to Home Assistant in one request body and
is never printed.
"""
# ruff: noqa: INP001, T201 - a script beside the shell scripts, whose output is its job

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import ctypes.util
from importlib.metadata import version
import importlib.util
import json
from pathlib import Path
import secrets
import shutil
import sys
import time
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "spectronics_voip"
DOMAIN = INTEGRATION.name
# The tracked files of config/; everything else in a state folder is Home Assistant's.
TRACKED = ("configuration.yaml", "automations.yaml", "scripts.yaml", "scenes.yaml")
KEPT = {*TRACKED, ".gitignore", "custom_components", "secrets.yaml"}
DEMO_FILE = "develop-demo.json"
HTTP_PACKAGE = Path("packages") / "develop_http.yaml"

OWNER = {"name": "Demo owner", "username": "demo"}
TOKEN = "simulator-token"  # the simulator's development token, valid for all extensions
EXTENSION = "1234567"
# Each contact's two form steps: its name and which phone rings first, then the rest.
# Front door is quick dial: your extension rings first, showing FRONT DOOR, and
# answering it dials the door. Mobile's own phone rings first; once it answers, it is
# connected to your extension, and with wait the call says whether it did.
CONTACTS = (
    (
        {"name": "Front door", "ring_first": "my_extension"},
        {"destination": "2001", "cidname": "FRONT DOOR", "wait": False},
    ),
    (
        {"name": "Mobile", "ring_first": "contact_number"},
        {"destination": "07700 900123", "wait": True},
    ),
)
# The account's own entities on the dashboard, by the end of their unique ids.
ACCOUNT_ENTITIES = ("stop_calls", "calls_today", "calls_last_hour")
DASHBOARD = {"url_path": "phone-calls", "title": "Phone calls", "icon": "mdi:phone"}
VIEW = "demo"
# Entries that onboarding adds on any new Home Assistant; the demo does not use them,
# and Radio Browser keeps failing without the internet, so the first start removes them.
ONBOARDING_EXTRAS = ("google_translate", "radio_browser", "shopping_list")
START_TIMEOUT = 300.0


def say(*lines: str) -> None:
    """Print lines at once, so that they stay together among Home Assistant's."""
    print("\n".join(lines), flush=True)


def note(text: str) -> None:
    """Print a note on standard error."""
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------
# prepare
# ---------------------------------------------------------------------------------------


def http_in_storage() -> bool:
    """Return whether this Home Assistant moves its HTTP settings to storage (2026.x)."""
    # Read, not imported: importing the http component takes seconds at every start.
    spec = importlib.util.find_spec("homeassistant")
    assert spec is not None
    assert spec.origin is not None
    module = Path(spec.origin).parent / "components" / "http" / "config.py"
    return module.is_file() and "class HTTPConfigStore" in module.read_text()


def stored_port(folder: Path) -> int | None:
    """Return the port in Home Assistant's stored HTTP settings, if it has them."""
    try:
        data = json.loads((folder / ".storage" / "http").read_text())["data"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    conf = data.get("pending") or data.get("stable") or {}
    port = conf.get("server_port")
    return port if isinstance(port, int) else None


def empty_state(folder: Path) -> None:
    """Remove everything Home Assistant and the demo wrote in the folder."""
    removed = sorted(path.name for path in folder.iterdir() if path.name not in KEPT)
    for name in removed:
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    note(f"--fresh: removed {len(removed)} items of Home Assistant's state in {folder}")


def prepare(args: argparse.Namespace) -> None:
    """Make the folder a configuration folder; print the URL Home Assistant serves."""
    folder: Path = args.config
    folder.mkdir(parents=True, exist_ok=True)
    own = folder.resolve() != (ROOT / "config").resolve()
    for name in TRACKED:
        source, copy = ROOT / "config" / name, folder / name
        if not copy.exists() or (own and args.fresh):
            shutil.copyfile(source, copy)
        elif own and copy.read_bytes() != source.read_bytes():
            # Kept: it may hold the user's own changes.
            note(
                f"note: {copy} differs from config/{name}; --fresh starts over with"
                " the repository's"
            )
    link = folder / "custom_components" / DOMAIN
    if not link.exists():
        link.parent.mkdir(exist_ok=True)
        link.unlink(missing_ok=True)  # a dangling link
        target = Path("../../custom_components") / DOMAIN
        if own:
            target = INTEGRATION
        link.symlink_to(target)
    if args.fresh:
        empty_state(folder)

    port = args.port
    package = folder / HTTP_PACKAGE
    if http_in_storage() and (saved := stored_port(folder)) is not None:
        # Home Assistant 2026.x took the address from YAML on the first start and
        # ignores YAML from then on (and raises a repair while it is still there).
        package.unlink(missing_ok=True)
        if saved != port:
            note(
                f"note: this state folder serves on port {saved} (Home Assistant keeps"
                f" its HTTP settings since its first start); --fresh starts over on {port}"
            )
        port = saved
    else:
        package.parent.mkdir(exist_ok=True)
        package.write_text(
            "# Written by scripts/develop at each start that needs it.\n"
            f"http:\n  server_host: {args.host}\n  server_port: {port}\n"
        )

    left_out = []
    if not shutil.which("ffmpeg"):
        left_out.append("ffmpeg")
    if not ctypes.util.find_library("turbojpeg"):
        left_out.append("libturbojpeg")
    if left_out:
        note(
            f"note: {' and '.join(left_out)} not installed: only cameras and voice audio"
            " use them, so their start-up errors are silenced (config/configuration.yaml)"
        )
    print(f"http://{args.host}:{port}")


# ---------------------------------------------------------------------------------------
# requirements
# ---------------------------------------------------------------------------------------


def requirements(args: argparse.Namespace) -> None:
    """Print the requirements of the configured and always-loaded integrations missing."""
    # Here, not at the top: bootstrap takes seconds to import, which only this needs.
    from homeassistant import bootstrap, components  # noqa: PLC0415
    from homeassistant.util.package import is_installed  # noqa: PLC0415
    from homeassistant.util.yaml import load_yaml  # noqa: PLC0415

    builtin = Path(components.__file__).parent

    def manifest(domain: str) -> dict[str, Any]:
        for folder in (builtin / domain, INTEGRATION if domain == DOMAIN else None):
            if folder and (folder / "manifest.json").is_file():
                data: dict[str, Any] = json.loads(
                    (folder / "manifest.json").read_text()
                )
                return data
        return {}

    configured = load_yaml(args.config / "configuration.yaml") or {}
    todo = {key.split(" ")[0] for key in configured}
    todo |= set(bootstrap.CORE_INTEGRATIONS) | set(bootstrap.DEFAULT_INTEGRATIONS)
    # http (2026.x) and aiohttp look for isal's compression; onboarding sets up these.
    todo |= {DOMAIN, "http", "isal", "met", *ONBOARDING_EXTRAS}
    seen: set[str] = set()
    needed: dict[str, str] = {}
    while todo:
        domain = todo.pop()
        seen.add(domain)
        data = manifest(domain)
        for req in data.get("requirements", []):
            needed.setdefault(req, domain)
        todo |= set(data.get("dependencies", [])) - seen
    for req, domain in sorted(needed.items()):
        if not is_installed(req):
            print(req)
            note(f"  missing: {req} (for {domain})")


# ---------------------------------------------------------------------------------------
# up
# ---------------------------------------------------------------------------------------


class SetupError(Exception):
    """Home Assistant refused a step of the demo's set-up."""


class Api:
    """Home Assistant's REST and websocket APIs, as the demo's owner."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        """Talk to Home Assistant at url."""
        self.session = session
        self.url = url
        self.client_id = f"{url}/"
        self.token = ""
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._id = 0

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a REST request; return its JSON, or raise SetupError."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.request(
            method, self.url + path, headers=headers, **kwargs
        ) as response:
            text = await response.text()
            if response.status >= 400:
                raise SetupError(
                    f"{method} {path}: HTTP {response.status} {text[:200]}"
                )
            return json.loads(text) if text else None

    async def token_from_code(self, code: str) -> None:
        """Trade an authorization code for an access token."""
        data = {"grant_type": "authorization_code", "code": code}
        tokens = await self.request(
            "POST", "/auth/token", data={**data, "client_id": self.client_id}
        )
        self.token = tokens["access_token"]

    async def login(self, username: str, password: str) -> None:
        """Log in through the login flow, as the frontend does."""
        flow = await self.request(
            "POST",
            "/auth/login_flow",
            json={
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.client_id,
            },
        )
        result = await self.request(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            json={
                "client_id": self.client_id,
                "username": username,
                "password": password,
            },
        )
        if result.get("type") != "create_entry":
            raise SetupError(f"the demo login was refused: {result.get('errors')}")
        await self.token_from_code(result["result"])

    async def ws(self, kind: str, **data: Any) -> Any:
        """Send a websocket command; return its result, or raise SetupError."""
        if self._ws is None:
            self._ws = await self.session.ws_connect(f"{self.url}/api/websocket")
            await self._ws.receive_json()
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            if (await self._ws.receive_json()).get("type") != "auth_ok":
                raise SetupError("the websocket API refused the demo owner's token")
        self._id += 1
        await self._ws.send_json({"id": self._id, "type": kind, **data})
        while True:
            message = await self._ws.receive_json()
            if message.get("id") == self._id and message.get("type") == "result":
                break
        if not message["success"]:
            raise SetupError(f"{kind}: {message['error']}")
        return message["result"]

    async def close(self) -> None:
        """Close the websocket."""
        if self._ws is not None:
            await self._ws.close()

    async def flow(self, base: str, handler: Any, *steps: dict[str, Any]) -> Any:
        """Run a config or subentry flow through its steps; return the last result."""
        result = await self.request("POST", base, json={"handler": handler})
        for user_input in steps:
            if result.get("type") != "form":
                break
            result = await self.request(
                "POST", f"{base}/{result['flow_id']}", json=user_input
            )
            if result.get("errors"):
                raise SetupError(f"{base}: {result['errors']}")
        if result.get("type") != "create_entry":
            raise SetupError(f"{base}: ended with {result.get('type')}")
        return result


async def wait_until(
    check: Callable[[], Awaitable[Any]], what: str, timeout: float
) -> Any:
    """Return check()'s first truthy result, trying every half second."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(aiohttp.ClientError, SetupError):
            if result := await check():
                return result
        if time.monotonic() > deadline:
            raise SetupError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.5)


async def onboard(api: Api, demo: dict[str, Any], folder: Path) -> None:
    """Onboard the demo owner; keep the login beside the state."""
    result = await api.request(
        "POST",
        "/api/onboarding/users",
        json={
            **OWNER,
            "password": demo["password"],
            "client_id": api.client_id,
            "language": "en",
        },
    )
    save(folder, demo)
    await api.token_from_code(result["auth_code"])
    await api.request("POST", "/api/onboarding/core_config")
    await api.request("POST", "/api/onboarding/analytics")
    await api.request(
        "POST",
        "/api/onboarding/integration",
        json={
            "client_id": api.client_id,
            "redirect_uri": f"{api.client_id}?auth_callback=1",
        },
    )
    await api.ws(
        "config/core/update",
        location_name="Spectronics VoIP demo",
        country="GB",
        currency="GBP",
        time_zone="Europe/London",
    )
    with contextlib.suppress(SetupError):  # before 2026.x there is no such command
        http = await api.ws("http/config")
        if http.get("active_config_type") == "pending":
            # Home Assistant 2026.x tries the address taken from YAML and reverts it
            # after five minutes unless confirmed: confirm it, as its dialog would.
            await api.ws("http/config/promote")
    issues = (await api.ws("repairs/list_issues"))["issues"]
    for issue in issues:
        if issue["domain"] == "http" and issue["issue_id"] == "deprecated_yaml":
            # Raised for the address the first start took from YAML; develop removes
            # that YAML once it is in storage, and the next start clears the issue.
            await api.ws(
                "repairs/ignore_issue",
                domain="http",
                issue_id="deprecated_yaml",
                ignore=True,
            )


async def add_demo(api: Api, simulator_url: str) -> str:
    """Add the integration with its contacts and the dashboard; return its URL path."""
    entries = await api.request(
        "GET", f"/api/config/config_entries/entry?domain={DOMAIN}"
    )
    entry = next((e for e in entries if e.get("unique_id") == EXTENSION), None)
    if entry is None:
        result = await api.flow(
            "/api/config/config_entries/flow",
            DOMAIN,
            {"api_token": TOKEN, "extension": EXTENSION, "url": simulator_url},
        )
        entry_id = result["result"]["entry_id"]
    else:
        entry_id = entry["entry_id"]
    have = {
        sub["title"]
        for sub in await api.ws("config_entries/subentries/list", entry_id=entry_id)
    }
    for steps in CONTACTS:
        if steps[0]["name"] not in have:
            await api.flow(
                "/api/config/config_entries/subentries/flow",
                [entry_id, "contact"],
                *steps,
            )
    names = [steps[0]["name"] for steps in CONTACTS]

    async def entities() -> dict[str, str] | None:
        found: dict[str, str] = {}
        subentries = {
            sub["subentry_id"]: sub["title"]
            for sub in await api.ws("config_entries/subentries/list", entry_id=entry_id)
        }
        for entity in await api.ws("config/entity_registry/list"):
            if entity.get("config_entry_id") != entry_id:
                continue
            domain = entity["entity_id"].split(".")[0]
            if domain == "event":
                found["last call"] = entity["entity_id"]
            elif domain == "button" and entity.get("config_subentry_id") in subentries:
                found[subentries[entity["config_subentry_id"]]] = entity["entity_id"]
            elif (key := entity["unique_id"].removeprefix(f"{entry_id}_")) in (
                ACCOUNT_ENTITIES
            ):
                found[key] = entity["entity_id"]
        wanted = (*names, "last call", *ACCOUNT_ENTITIES)
        return found if all(key in found for key in wanted) else None

    found = await wait_until(entities, "the contacts' entities", 60)
    dashboards = await api.ws("lovelace/dashboards/list")
    if not any(d["url_path"] == DASHBOARD["url_path"] for d in dashboards):
        await api.ws(
            "lovelace/dashboards/create",
            **DASHBOARD,
            show_in_sidebar=True,
            require_admin=False,
        )
    await api.ws(
        "lovelace/config/save",
        url_path=DASHBOARD["url_path"],
        config=dashboard(
            [(name, found[name]) for name in names],
            found["last call"],
            stop=found["stop_calls"],
            counters=[found["calls_today"], found["calls_last_hour"]],
        ),
    )
    return f"/{DASHBOARD['url_path']}/{VIEW}"


def dashboard(
    buttons: list[tuple[str, str]], last_call: str, *, stop: str, counters: list[str]
) -> dict[str, Any]:
    """Return the demo dashboard: the contacts, Stop calls, the last call, the logbook."""
    return {
        "title": DASHBOARD["title"],
        "views": [
            {
                "title": "Demo",
                "path": VIEW,
                "icon": DASHBOARD["icon"],
                "cards": [
                    {
                        "type": "markdown",
                        "content": (
                            "**Front door** is quick dial: pressing it rings your own"
                            " extension first (1234567), showing FRONT DOOR, and"
                            " answering it dials the door. **Mobile** rings the mobile"
                            " first; once it answers, it is connected to your extension."
                            " **Stop calls** ends a ring-until-answered and drops calls"
                            " still waiting to be sent. The calls go to the provider's"
                            " simulator: the terminal running `scripts/develop` shows"
                            " each request, the phones it rang and its reply."
                        ),
                    },
                    *(
                        {
                            "type": "tile",
                            "entity": entity_id,
                            "name": name,
                            "tap_action": {"action": "toggle"},
                        }
                        for name, entity_id in buttons
                    ),
                    {
                        "type": "tile",
                        "entity": stop,
                        "name": "Stop calls",
                        "tap_action": {"action": "toggle"},
                    },
                    *(
                        {"type": "tile", "entity": entity_id, "name": name}
                        for name, entity_id in zip(
                            ("Calls today", "Calls in the last hour"),
                            counters,
                            strict=True,
                        )
                    ),
                    {
                        "type": "entities",
                        "title": "Last call",
                        "entities": [
                            {"entity": last_call, "name": "Last call"},
                            *(
                                {
                                    "type": "attribute",
                                    "entity": last_call,
                                    "attribute": key,
                                    "name": label,
                                }
                                for key, label in (
                                    ("contact", "Contact"),
                                    ("rings_first", "Rang first"),
                                    ("message", "Reply"),
                                )
                            ),
                        ],
                    },
                    {
                        "type": "logbook",
                        "title": "Calls in the last 24 hours",
                        # Last call's state and, filed under it, each call's sentence.
                        "target": {"entity_id": last_call},
                        "hours_to_show": 24,
                    },
                ],
            }
        ],
    }


async def remove_onboarding_extras(api: Api) -> None:
    """Remove the entries onboarding added for integrations the demo does not use."""

    async def extras() -> list[dict[str, Any]] | None:
        entries = await api.request("GET", "/api/config/config_entries/entry")
        found = [e for e in entries if e["domain"] in ONBOARDING_EXTRAS]
        return found if len(found) == len(ONBOARDING_EXTRAS) else None

    with contextlib.suppress(SetupError):  # what never came (no PyPI) is not there
        await wait_until(extras, "onboarding's integrations", 60)
    for entry in await api.request("GET", "/api/config/config_entries/entry"):
        if entry["domain"] in ONBOARDING_EXTRAS:
            await api.request(
                "DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}"
            )


def save(folder: Path, demo: dict[str, Any]) -> None:
    """Write the demo's file, readable by its owner only."""
    path = folder / DEMO_FILE
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.write_text(json.dumps(demo, indent=2) + "\n")
    tmp.replace(path)


async def up(args: argparse.Namespace) -> None:
    """Wait for Home Assistant, set the demo up on the first start, say where to go."""
    folder: Path = args.config
    async with aiohttp.ClientSession() as session:
        api = Api(session, args.url)

        async def answering() -> bool:
            # The frontend is set up after its dependencies, onboarding among them.
            async with session.get(f"{args.url}/manifest.json") as response:
                return response.status == 200

        await wait_until(answering, "Home Assistant to answer", START_TIMEOUT)
        async with session.get(f"{args.url}/api/onboarding") as response:
            # Not found once onboarding is done: Home Assistant no longer serves it.
            steps = await response.json() if response.status == 200 else []
        demo_path = folder / DEMO_FILE
        demo: dict[str, Any] = (
            json.loads(demo_path.read_text()) if demo_path.exists() else {}
        )
        user_done = not steps or any(s["step"] == "user" and s["done"] for s in steps)
        try:
            if not user_done:
                say(
                    "",
                    "==> First start: onboarding the demo owner, adding the demo (about a minute)",
                )
                demo = {
                    **OWNER,
                    "password": secrets.token_urlsafe(9),
                    "complete": False,
                }
                await onboard(api, demo, folder)
            elif not demo:
                say(
                    "",
                    "==> Home Assistant is up. This state was onboarded by hand: log in with"
                    " your own user;",
                    "    scripts/develop --fresh starts over with the demo.",
                )
                return
            elif not demo.get("complete"):
                await api.login(demo["username"], demo["password"])
            if not demo.get("complete"):
                demo["dashboard"] = await add_demo(api, args.simulator_url)
                if not user_done:
                    await remove_onboarding_extras(api)
                demo["complete"] = True
                save(folder, demo)
        finally:
            await api.close()

    elapsed = time.time() - args.started if args.started else None
    took = f" in {elapsed:.0f} s" if elapsed is not None else ""
    say(
        "",
        f"==> Ready{took} (Home Assistant {version('homeassistant')}):"
        f" open {args.url}{demo['dashboard']}",
        f"    Log in as:  {demo['username']}   password: {demo['password']}"
        f"   (kept in {folder / DEMO_FILE})",
        '    Press "Front door" (your extension rings first) or "Mobile" (the mobile rings',
        '    first): the call shows under "Last call" and in the logbook, and the',
        "    simulator prints the request, the phones it rang and its reply here.",
        "    Ctrl-C stops everything; scripts/develop --fresh starts over.",
        "",
    )


def main() -> None:
    """Run a subcommand."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("prepare", "requirements", "up"):
        command = sub.add_parser(name)
        command.add_argument(
            "--config", type=lambda p: Path(p).resolve(), required=True
        )
    sub.choices["prepare"].add_argument("--fresh", action="store_true")
    sub.choices["prepare"].add_argument("--host", default="127.0.0.1")
    sub.choices["prepare"].add_argument("--port", type=int, default=8123)
    sub.choices["up"].add_argument("--url", required=True)
    sub.choices["up"].add_argument("--simulator-url", required=True)
    sub.choices["up"].add_argument("--started", type=float, default=0.0)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args)
    elif args.command == "requirements":
        requirements(args)
    else:
        try:
            asyncio.run(up(args))
        except SetupError as err:
            sys.exit(
                f"error: the demo's set-up failed: {err}\n"
                "Home Assistant goes on running; scripts/develop --fresh starts over."
            )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
