"""The quality scale: every rule is listed, none is todo, and each status is true.

The rule list is hard-coded from Home Assistant core's script/hassfest/quality_scale.py
(ALL_RULES) at commit 008538e822535b1d6155c91f6642127afa184ed1, the newest stored
version (2026.11's list, with docs-conditions and docs-triggers). hassfest does not read
quality_scale.yaml for custom integrations, so this test does.

Every rule needs a checker for the status the file gives it: for a done rule, its evidence
in the code, the translations or the README; for an exempt rule, that its reason still
holds (no polling, no discovery keys, no conditions of our own...). Changing a status
without changing what makes it true fails here. The checkers read the files, never
import them, so the tests at the end can run them on a broken copy.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from functools import cached_property
import json
from pathlib import Path
import re
import shutil
import struct
import tomllib
from typing import Any

import pytest
import yaml

DOMAIN = "spectronics_voip"
ROOT = Path(__file__).parent.parent

# ALL_RULES of script/hassfest/quality_scale.py, home-assistant/core commit
# 008538e822535b1d6155c91f6642127afa184ed1: rule -> tier, in that file's order.
RULES: dict[str, str] = {
    "action-setup": "bronze",
    "appropriate-polling": "bronze",
    "brands": "bronze",
    "common-modules": "bronze",
    "config-flow": "bronze",
    "config-flow-test-coverage": "bronze",
    "dependency-transparency": "bronze",
    "docs-actions": "bronze",
    "docs-conditions": "bronze",
    "docs-high-level-description": "bronze",
    "docs-installation-instructions": "bronze",
    "docs-removal-instructions": "bronze",
    "docs-triggers": "bronze",
    "entity-event-setup": "bronze",
    "entity-unique-id": "bronze",
    "has-entity-name": "bronze",
    "runtime-data": "bronze",
    "test-before-configure": "bronze",
    "test-before-setup": "bronze",
    "unique-config-entry": "bronze",
    "action-exceptions": "silver",
    "config-entry-unloading": "silver",
    "docs-configuration-parameters": "silver",
    "docs-installation-parameters": "silver",
    "entity-unavailable": "silver",
    "integration-owner": "silver",
    "log-when-unavailable": "silver",
    "parallel-updates": "silver",
    "reauthentication-flow": "silver",
    "test-coverage": "silver",
    "devices": "gold",
    "diagnostics": "gold",
    "discovery": "gold",
    "discovery-update-info": "gold",
    "docs-data-update": "gold",
    "docs-examples": "gold",
    "docs-known-limitations": "gold",
    "docs-supported-devices": "gold",
    "docs-supported-functions": "gold",
    "docs-troubleshooting": "gold",
    "docs-use-cases": "gold",
    "dynamic-devices": "gold",
    "entity-category": "gold",
    "entity-device-class": "gold",
    "entity-disabled-by-default": "gold",
    "entity-translations": "gold",
    "exception-translations": "gold",
    "icon-translations": "gold",
    "reconfiguration-flow": "gold",
    "repair-issues": "gold",
    "stale-devices": "gold",
    "async-dependency": "platinum",
    "inject-websession": "platinum",
    "strict-typing": "platinum",
}
TIERS = ("bronze", "silver", "gold", "platinum")
STATUSES = ("done", "exempt", "todo")

# The entity category decided for each entity class (None: primary, the default).
ENTITY_CATEGORIES: dict[str, str | None] = {
    "SpectronicsCallButton": None,
    "SpectronicsNotifyEntity": None,
    "SpectronicsLastCallEvent": None,
}
DISCOVERY_KEYS = ("bluetooth", "dhcp", "homekit", "mqtt", "ssdp", "usb", "zeroconf")
DISCOVERY_STEPS = {
    f"async_step_{key}" for key in (*DISCOVERY_KEYS, "discovery", "hassio")
}
SUBSCRIBERS = {"async_add_listener", "async_listen", "async_dispatcher_connect"}
HA_ERRORS = {
    "HomeAssistantError",
    "ServiceValidationError",
    "ConfigEntryAuthFailed",
    "ConfigEntryError",
    "ConfigEntryNotReady",
}


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (PyYAML keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        """Refuse duplicate keys, then build the mapping."""
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        if duplicates := {key for key in keys if keys.count(key) > 1}:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate keys {sorted(duplicates)}", node.start_mark
            )
        return super().construct_mapping(node, deep)


class Project:
    """The files the quality scale is about: the integration, README, pyproject."""

    def __init__(self, root: Path) -> None:
        """Read the project at `root` (the repository, or a copy of it)."""
        self.root = root
        self.integration = root / "custom_components" / DOMAIN

    def read(self, relative: str) -> str:
        """Return a file of the integration."""
        return (self.integration / relative).read_text(encoding="utf-8")

    def has(self, relative: str) -> bool:
        """Return whether the integration has a file."""
        return (self.integration / relative).is_file()

    @cached_property
    def modules(self) -> dict[str, ast.Module]:
        """Return every module of the integration, parsed, by name."""
        return {
            path.stem: ast.parse(path.read_text(encoding="utf-8"))
            for path in sorted(self.integration.glob("*.py"))
        }

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """Return manifest.json."""
        return json.loads(self.read("manifest.json"))

    @cached_property
    def strings(self) -> dict[str, Any]:
        """Return translations/en.json."""
        return json.loads(self.read("translations/en.json"))

    @cached_property
    def icons(self) -> dict[str, Any]:
        """Return icons.json."""
        return json.loads(self.read("icons.json"))

    @cached_property
    def services(self) -> dict[str, Any]:
        """Return services.yaml."""
        return yaml.safe_load(self.read("services.yaml"))

    @cached_property
    def pyproject(self) -> dict[str, Any]:
        """Return pyproject.toml."""
        return tomllib.loads((self.root / "pyproject.toml").read_text("utf-8"))

    @cached_property
    def readme(self) -> str:
        """Return the README, the integration's documentation."""
        return (self.root / "README.md").read_text(encoding="utf-8")

    @cached_property
    def statuses(self) -> dict[str, tuple[str, str | None]]:
        """Return each rule's status and comment from quality_scale.yaml."""
        data = yaml.load(self.read("quality_scale.yaml"), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
        statuses = {}
        for rule, value in data["rules"].items():
            if isinstance(value, dict):
                statuses[rule] = (value.get("status"), value.get("comment"))
            else:
                statuses[rule] = (value, None)
        return statuses

    @cached_property
    def constants(self) -> dict[str, str]:
        """Return the module-level string constants of the integration, by name."""
        found = {}
        for tree in self.modules.values():
            for node in tree.body:
                target, value = _assignment(node)
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found[target] = value.value
        return found

    @cached_property
    def classes(self) -> dict[str, ClassInfo]:
        """Return every class of the integration, by name."""
        return {
            node.name: ClassInfo(module, node)
            for module, tree in self.modules.items()
            for node in tree.body
            if isinstance(node, ast.ClassDef)
        }

    def text(self, expr: ast.expr | None) -> str | None:
        """Return a string literal or a constant's value; None for anything else."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return expr.value
        if isinstance(expr, ast.Name):
            return self.constants.get(expr.id)
        return None

    def mro(self, name: str) -> Iterator[ClassInfo]:
        """Yield a class and its bases defined in the integration, nearest first."""
        if (info := self.classes.get(name)) is None:
            return
        yield info
        for base in info.bases:
            yield from self.mro(base)

    def is_entity(self, name: str) -> bool:
        """Return whether a class of the integration is a Home Assistant entity."""
        return any(
            base.endswith("Entity") and base not in self.classes
            for info in self.mro(name)
            for base in info.bases
        )

    def attribute(self, name: str, attr: str) -> ast.expr | None:
        """Return the class-level value a class (or a base of ours) gives `attr`."""
        for info in self.mro(name):
            if attr in info.attrs:
                return info.attrs[attr]
        return None

    @cached_property
    def entities(self) -> dict[str, str]:
        """Return each entity class that a platform creates, with its platform."""
        return {
            name: info.module
            for name, info in self.classes.items()
            if info.module in self.platforms and self.is_entity(name)
        }

    @cached_property
    def entity_classes(self) -> list[str]:
        """Return every entity class of the integration, bases included."""
        return [name for name in self.classes if self.is_entity(name)]

    @cached_property
    def platforms(self) -> list[str]:
        """Return the platforms __init__.PLATFORMS forwards, as module names."""
        for node in self.modules["__init__"].body:
            target, value = _assignment(node)
            if target == "PLATFORMS" and isinstance(value, ast.List):
                return [
                    element.attr.lower()
                    for element in value.elts
                    if isinstance(element, ast.Attribute)
                ]
        raise AssertionError("__init__.py defines no PLATFORMS list")

    def section(self, pattern: str) -> str:
        """Return the README section whose heading matches `pattern`, subsections included."""
        headings = list(_headings(self.readme))
        for index, (level, title, start) in enumerate(headings):
            if re.search(pattern, title, re.IGNORECASE):
                end = next(
                    (pos for lvl, _, pos in headings[index + 1 :] if lvl <= level),
                    len(self.readme),
                )
                return self.readme[start:end]
        raise AssertionError(
            f"the README has no section whose heading matches {pattern!r}"
        )


class ClassInfo:
    """A class of the integration, as written."""

    def __init__(self, module: str, node: ast.ClassDef) -> None:
        """Collect the class's bases, class attributes and methods."""
        self.module = module
        self.node = node
        self.bases = [_name(base) for base in node.bases]
        self.attrs: dict[str, ast.expr] = {}
        self.methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        for item in node.body:
            target, value = _assignment(item)
            if target is not None and value is not None:
                self.attrs[target] = value
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                self.methods[item.name] = item


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    """Return the name and value of `name = value` or `name: type = value`."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            return target.id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return None, None


def _name(expr: ast.expr) -> str:
    """Return the last name of `a.b.C` or `C`, or of the callee of `C(...)`."""
    if isinstance(expr, ast.Call):
        return _name(expr.func)
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Subscript):
        return _name(expr.value)
    return ""


def _calls(node: ast.AST, name: str) -> list[ast.Call]:
    """Return the calls of a function or method called `name` within `node`."""
    return [
        call
        for call in ast.walk(node)
        if isinstance(call, ast.Call) and _name(call.func) == name
    ]


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    """Return a call's keyword argument."""
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """Return a module-level function."""
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == name
        ):
            return node
    raise AssertionError(f"no function {name}")


def _raises(node: ast.AST) -> list[ast.Call]:
    """Return the exceptions raised as `raise X(...)` within `node`."""
    return [
        raised.exc
        for raised in ast.walk(node)
        if isinstance(raised, ast.Raise) and isinstance(raised.exc, ast.Call)
    ]


def _headings(text: str) -> Iterator[tuple[int, str, int]]:
    """Yield (level, title, offset) of each Markdown heading outside code blocks."""
    fenced = False
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"(#+) (.*)", line)):
            yield len(match.group(1)), match.group(2).strip(), offset
        offset += len(line)


def _png_size(path: Path) -> tuple[int, int]:
    """Return a PNG's width and height, from its IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


type Checker = Callable[[Project], None]
CHECKS: dict[tuple[str, str], Checker] = {}


def check(*keys: tuple[str, str]) -> Callable[[Checker], Checker]:
    """Register a checker for (rule, status) pairs."""

    def register(checker: Checker) -> Checker:
        for key in keys:
            CHECKS[key] = checker
        return checker

    return register


# Bronze


@check(("action-setup", "done"))
def _action_setup(project: Project) -> None:
    """Actions are registered in async_setup, and nowhere else."""
    init = project.modules["__init__"]
    assert _calls(_function(init, "async_setup"), "async_setup_services")
    registering = _function(project.modules["services"], "async_setup_services")
    assert len(_calls(registering, "async_register")) == len(project.services)
    for module, tree in project.modules.items():
        for node in tree.body:
            if node is registering or isinstance(node, ast.ClassDef):
                continue
            assert not _calls(node, "async_register"), f"async_register in {module}"
            if getattr(node, "name", None) != "async_setup":
                assert not _calls(node, "async_setup_services"), module


def _assert_no_polling(project: Project) -> None:
    """No entity polls, and nothing is fetched on a timer."""
    for name in project.entity_classes:
        if (poll := project.attribute(name, "_attr_should_poll")) is not None:
            assert isinstance(poll, ast.Constant)
            assert poll.value is False, name
    for base in ("SpectronicsEntity", "SpectronicsContactEntity"):
        poll = project.attribute(base, "_attr_should_poll")
        assert isinstance(poll, ast.Constant)
        assert poll.value is False, base
    for module, tree in project.modules.items():
        source = ast.unparse(tree)
        for word in (
            "DataUpdateCoordinator",
            "SCAN_INTERVAL",
            "async_track_time_interval",
        ):
            assert word not in source, f"{word} in {module}: update the quality scale"


@check(("appropriate-polling", "exempt"))
def _appropriate_polling(project: Project) -> None:
    """Exempt while nothing polls."""
    _assert_no_polling(project)


@check(("brands", "done"))
def _brands(project: Project) -> None:
    """Check that the brand images Home Assistant 2026.3+ shows for a custom integration."""
    brand = project.integration / "brand"
    assert _png_size(brand / "icon.png") == (256, 256)
    assert _png_size(brand / "icon@2x.png") == (512, 512)
    assert (brand / "logo.png").is_file()


@check(("common-modules", "done"))
def _common_modules(project: Project) -> None:
    """Every platform's entities derive from a base entity in entity.py."""
    assert project.entities
    for name in project.entities:
        assert any(info.module == "entity" for info in project.mro(name)), name


@check(("config-flow-test-coverage", "done"))
def _config_flow_test_coverage(project: Project) -> None:
    """Check that the config flow has its tests and is under the 100 % coverage gate."""
    assert (project.root / "tests" / "test_config_flow.py").is_file()
    _test_coverage(project)
    assert "omit" not in project.pyproject["tool"]["coverage"]["run"]


@check(("config-flow", "done"))
def _config_flow(project: Project) -> None:
    """Check for a config flow with a user step, and a description for every field."""
    assert project.manifest["config_flow"] is True
    flow = project.classes["SpectronicsConfigFlow"]
    assert "ConfigFlow" in flow.bases
    assert "async_step_user" in flow.methods
    flows = [
        project.strings["config"],
        project.strings["options"],
        *project.strings["config_subentries"].values(),
    ]
    for strings in flows:
        for step_id, step in strings["step"].items():
            missing = set(step.get("data", {})) - set(step.get("data_description", {}))
            assert not missing, f"step {step_id}: no data_description for {missing}"


@check(("dependency-transparency", "exempt"))
def _dependency_transparency(project: Project) -> None:
    """Exempt while there is no requirement."""
    assert project.manifest.get("requirements", []) == []


def _sections(project: Project, level: int) -> Iterator[tuple[str, str]]:
    """Yield the title and text of each README section of a heading level."""
    for lvl, title, _ in _headings(project.readme):
        if lvl == level:
            yield title, project.section(f"^{re.escape(title)}$")


@check(("docs-actions", "done"))
def _docs_actions(project: Project) -> None:
    """Check that a README section documents each action and all its fields."""
    for service, schema in project.services.items():
        documented = [
            title
            for title, text in _sections(project, 2)
            if f"{DOMAIN}.{service}" in text
            and all(f"`{field}`" in text for field in schema["fields"])
        ]
        assert documented, f"no README section documents {service} and all its fields"


@check(("docs-conditions", "exempt"))
def _docs_conditions(project: Project) -> None:
    """Exempt while the integration provides no condition of its own."""
    for file in ("conditions.yaml", "condition.py", "device_condition.py"):
        assert not project.has(file), file
    assert "conditions" not in project.strings


@check(("docs-triggers", "exempt"))
def _docs_triggers(project: Project) -> None:
    """Exempt while the integration provides no trigger of its own."""
    for file in ("triggers.yaml", "trigger.py", "device_trigger.py"):
        assert not project.has(file), file
    assert "triggers" not in project.strings
    assert "device_automation" not in project.strings


@check(("docs-high-level-description", "done"))
def _docs_high_level_description(project: Project) -> None:
    """Check that the README opens with what the integration and the service are."""
    first = next(start for level, _, start in _headings(project.readme) if level == 2)
    intro = project.readme[:first]
    assert "Spectronics" in intro
    assert "http://voip.spectronics.co.uk/" in intro


@check(("docs-installation-instructions", "done"))
def _docs_installation_instructions(project: Project) -> None:
    """Check that the README has step-by-step installation, with HACS and by hand."""
    section = project.section(r"^installation$")
    assert "HACS" in section
    assert f"custom_components/{DOMAIN}" in section


@check(("docs-removal-instructions", "done"))
def _docs_removal_instructions(project: Project) -> None:
    """Check that the README says how to remove the integration."""
    assert "Delete" in project.section(r"^removal$")


@check(("entity-event-setup", "done"))
def _entity_event_setup(project: Project) -> None:
    """Entities subscribe in async_added_to_hass, through async_on_remove."""
    subscriptions = 0
    for name in project.entity_classes:
        for method_name, method in project.classes[name].methods.items():
            for call in ast.walk(method):
                if (
                    not isinstance(call, ast.Call)
                    or _name(call.func) not in SUBSCRIBERS
                ):
                    continue
                assert method_name == "async_added_to_hass", f"{name}.{method_name}"
                removers = [c.args[0] for c in _calls(method, "async_on_remove")]
                assert call in removers, (
                    f"{name}: a subscription not in async_on_remove"
                )
                subscriptions += 1
    assert subscriptions, "no entity subscribes: is the Last call entity gone?"


@check(("entity-unique-id", "done"))
def _entity_unique_id(project: Project) -> None:
    """Every entity gets its unique ID in a base entity's __init__."""
    for name in project.entities:
        assigns = [
            info.node.name
            for info in project.mro(name)
            if "__init__" in info.methods
            and any(
                isinstance(target, ast.Attribute) and target.attr == "_attr_unique_id"
                for node in ast.walk(info.methods["__init__"])
                if isinstance(node, ast.Assign)
                for target in node.targets
            )
        ]
        assert assigns, f"{name} sets no unique ID"
        own_init = project.classes[name].methods.get("__init__")
        assert own_init is None or _calls(own_init, "__init__"), name


@check(("has-entity-name", "done"))
def _has_entity_name(project: Project) -> None:
    """Every entity class sets _attr_has_entity_name = True."""
    for name in project.entity_classes:
        value = project.attribute(name, "_attr_has_entity_name")
        assert isinstance(value, ast.Constant), name
        assert value.value is True, name


@check(("runtime-data", "done"))
def _runtime_data(project: Project) -> None:
    """Runtime data lives in entry.runtime_data (typed); never in hass.data."""
    for module, tree in project.modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "data":
                assert _name(node.value) != "hass", f"hass.data in {module}"
    setup = _function(project.modules["__init__"], "async_setup_entry")
    assert any(
        isinstance(node, ast.Attribute)
        and node.attr == "runtime_data"
        and isinstance(node.ctx, ast.Store)
        for node in ast.walk(setup)
    )
    aliases = [
        node
        for node in project.modules["__init__"].body
        if isinstance(node, ast.TypeAlias) and node.name.id == "SpectronicsConfigEntry"
    ]
    assert aliases, "no `type SpectronicsConfigEntry = ConfigEntry[...]`"


@check(("test-before-configure", "done"))
def _test_before_configure(project: Project) -> None:
    """Every step that takes credentials checks them with the provider."""
    flow = project.classes["SpectronicsConfigFlow"]
    assert _calls(flow.methods["_async_check"], "check_credentials")
    for step in (
        "async_step_user",
        "async_step_reauth_confirm",
        "async_step_reconfigure",
    ):
        assert _calls(flow.methods[step], "_async_check"), step


@check(("test-before-setup", "done"))
def _test_before_setup(project: Project) -> None:
    """Check that set-up checks the credentials and raises the ConfigEntry errors."""
    setup = _function(project.modules["__init__"], "async_setup_entry")
    assert _calls(setup, "check_credentials")
    raised = {_name(call) for call in _raises(setup)}
    assert {
        "ConfigEntryAuthFailed",
        "ConfigEntryError",
        "ConfigEntryNotReady",
    } <= raised


@check(("unique-config-entry", "done"))
def _unique_config_entry(project: Project) -> None:
    """Check that an extension can be set up once."""
    user = project.classes["SpectronicsConfigFlow"].methods["async_step_user"]
    assert _calls(user, "async_set_unique_id")
    assert _calls(user, "_abort_if_unique_id_configured")


# Silver


@check(("action-exceptions", "done"))
def _action_exceptions(project: Project) -> None:
    """Check that the actions raise Home Assistant's errors, translated."""
    allowed = {
        "HomeAssistantError",
        "ServiceValidationError",
        "Unauthorized",
        "UnknownUser",
    }
    raised = _raises(project.modules["services"])
    assert raised
    for call in raised:
        assert _name(call) in allowed, _name(call)
        if _name(call) in HA_ERRORS:
            assert _keyword(call, "translation_key") is not None, ast.unparse(call)


@check(("config-entry-unloading", "done"))
def _config_entry_unloading(project: Project) -> None:
    """Check that the entry unloads its platforms."""
    unload = _function(project.modules["__init__"], "async_unload_entry")
    assert _calls(unload, "async_unload_platforms")


@check(("docs-configuration-parameters", "done"))
def _docs_configuration_parameters(project: Project) -> None:
    """Check that the README names every option and every contact field."""
    options = project.section(r"^options$")
    for label in project.strings["options"]["step"]["init"]["data"].values():
        assert label in options, f"README options: {label}"
    contact = project.section(r"^adding a contact$")
    fields = project.strings["config_subentries"]["contact"]["step"]["user"]["data"]
    for label in fields.values():
        assert label in contact, f"README contact fields: {label}"


@check(("docs-installation-parameters", "done"))
def _docs_installation_parameters(project: Project) -> None:
    """Check that the README names every field of the set-up form."""
    section = project.section(r"^configuration$")
    for label in project.strings["config"]["step"]["user"]["data"].values():
        assert label in section, f"README configuration: {label}"


def _assert_no_availability(project: Project) -> None:
    """No entity reports availability of its own."""
    for name in project.entity_classes:
        info = project.classes[name]
        assert "available" not in info.methods, name
        assert "_attr_available" not in info.attrs, name


@check(("entity-unavailable", "exempt"))
def _entity_unavailable(project: Project) -> None:
    """Exempt while no entity shows fetched data (no availability, no polling)."""
    _assert_no_availability(project)
    _assert_no_polling(project)


@check(("integration-owner", "done"))
def _integration_owner(project: Project) -> None:
    """Check that the manifest names code owners (GitHub handles)."""
    owners = project.manifest["codeowners"]
    assert owners
    assert all(owner.startswith("@") for owner in owners)


@check(("log-when-unavailable", "exempt"))
def _log_when_unavailable(project: Project) -> None:
    """Exempt while there is no connection or poll to lose."""
    _assert_no_polling(project)
    _assert_no_availability(project)


@check(("parallel-updates", "done"))
def _parallel_updates(project: Project) -> None:
    """Each platform module sets PARALLEL_UPDATES."""
    for platform in project.platforms:
        values = [
            value
            for node in project.modules[platform].body
            for target, value in [_assignment(node)]
            if target == "PARALLEL_UPDATES"
        ]
        assert values, f"{platform}.py does not set PARALLEL_UPDATES"
        assert isinstance(values[0], ast.Constant)
        assert isinstance(values[0].value, int)


@check(("reauthentication-flow", "done"))
def _reauthentication_flow(project: Project) -> None:
    """Check that a refused token starts re-authentication, at set-up and in a call."""
    flow = project.classes["SpectronicsConfigFlow"]
    assert {"async_step_reauth", "async_step_reauth_confirm"} <= set(flow.methods)
    assert "reauth_confirm" in project.strings["config"]["step"]
    assert "reauth_successful" in project.strings["config"]["abort"]
    setup = _function(project.modules["__init__"], "async_setup_entry")
    assert "ConfigEntryAuthFailed" in {_name(call) for call in _raises(setup)}
    assert _calls(project.modules["dialer"], "async_start_reauth")


@check(("test-coverage", "done"))
def _test_coverage(project: Project) -> None:
    """Coverage of the integration is gated at 100 %."""
    coverage = project.pyproject["tool"]["coverage"]
    assert coverage["report"]["fail_under"] == 100
    assert coverage["run"]["source"] == [f"custom_components/{DOMAIN}"]


# Gold


@check(("devices", "done"))
def _devices(project: Project) -> None:
    """Every entity belongs to a device; the account is a service device."""
    info = _function(project.modules["entity"], "account_device_info")
    entry_types = [_keyword(call, "entry_type") for call in _calls(info, "DeviceInfo")]
    assert entry_types
    assert all(_name(value) == "SERVICE" for value in entry_types if value)
    for name in project.entities:
        assert any(
            "_attr_device_info" in ast.unparse(base.methods.get("__init__", ast.Pass()))
            for base in project.mro(name)
        ), name


@check(("diagnostics", "done"))
def _diagnostics(project: Project) -> None:
    """Diagnostics of an entry, with the token redacted."""
    tree = project.modules["diagnostics"]
    function = _function(tree, "async_get_config_entry_diagnostics")
    assert _calls(function, "async_redact_data")
    redacted = next(
        value
        for node in tree.body
        for target, value in [_assignment(node)]
        if target == "TO_REDACT"
    )
    assert "CONF_API_TOKEN" in ast.unparse(redacted)


@check(("discovery", "exempt"), ("discovery-update-info", "exempt"))
def _discovery(project: Project) -> None:
    """Exempt while the integration is a cloud API with no discovery."""
    assert project.manifest["iot_class"].startswith("cloud_")
    for key in DISCOVERY_KEYS:
        assert key not in project.manifest, key
    flow = project.classes["SpectronicsConfigFlow"]
    assert not DISCOVERY_STEPS & set(flow.methods)


@check(("docs-data-update", "done"))
def _docs_data_update(project: Project) -> None:
    """Check that the README says how (and when) the integration's data changes."""
    section = project.section(r"\bdata\b.*\bupdat|\bupdat.*\bdata\b")
    assert "poll" in section.lower()


@check(("docs-examples", "done"))
def _docs_examples(project: Project) -> None:
    """Check that the README links every blueprint for import, and has worked examples."""
    section = project.section(r"blueprints?")
    blueprints = sorted((project.root / "blueprints").rglob("*.yaml"))
    assert blueprints, "no blueprints/"
    for blueprint in blueprints:
        assert blueprint.name in section, f"README blueprints: {blueprint.name}"
    assert section.count("blueprint_import") >= len(blueprints)
    examples = [
        title
        for _, title, _ in _headings(project.readme)
        if title.startswith("Example")
    ]
    assert len(examples) >= 5


@check(("docs-known-limitations", "done"))
def _docs_known_limitations(project: Project) -> None:
    """Check that the README lists known limitations."""
    assert project.section(r"^known limitations$").count("\n- ") >= 3


@check(("docs-supported-devices", "exempt"))
def _docs_supported_devices(project: Project) -> None:
    """Exempt while the integration is a service, with no devices to support."""
    assert project.manifest["integration_type"] == "service"


@check(("docs-supported-functions", "done"))
def _docs_supported_functions(project: Project) -> None:
    """Check that the README describes every entity and every action."""
    section = project.section(r"^the entities$")
    for platform, keys in project.strings["entity"].items():
        for key, strings in keys.items():
            assert strings["name"] in section, f"README entities: {platform}.{key}"
    assert "Notify" in section
    for service in project.services:
        assert f"{DOMAIN}.{service}" in project.readme


@check(("docs-troubleshooting", "done"))
def _docs_troubleshooting(project: Project) -> None:
    """Check that the README has a troubleshooting table of symptoms and fixes."""
    section = project.section(r"^troubleshooting$")
    assert section.count("\n| ") >= 10


@check(("docs-use-cases", "done"))
def _docs_use_cases(project: Project) -> None:
    """Check that the README has a use cases section."""
    assert project.section(r"use cases?").strip().count("\n") >= 3


@check(("dynamic-devices", "done"))
def _dynamic_devices(project: Project) -> None:
    """Entities of a contact added at run time are added by the update listener."""
    setup = _function(project.modules["entity"], "async_setup_contact_entities")
    assert _calls(setup, "async_dispatcher_connect")
    adds = _calls(setup, "async_add_entities")
    assert adds
    assert all(_keyword(call, "config_subentry_id") is not None for call in adds)
    for platform, tree in project.modules.items():
        if platform in project.platforms and platform != "event":
            assert _calls(
                _function(tree, "async_setup_entry"), "async_setup_contact_entities"
            )


@check(("entity-category", "done"))
def _entity_category(project: Project) -> None:
    """Every entity class has the category decided for it."""
    assert set(project.entities) == set(ENTITY_CATEGORIES), (
        "decide the new entity's category"
    )
    for name, expected in ENTITY_CATEGORIES.items():
        value = project.attribute(name, "_attr_entity_category")
        actual = None if value is None or ast.unparse(value) == "None" else _name(value)
        assert actual == expected, name


@check(("entity-device-class", "exempt"))
def _entity_device_class(project: Project) -> None:
    """Exempt while no entity has a device class."""
    for name in project.entity_classes:
        assert project.attribute(name, "_attr_device_class") is None, name


@check(("entity-disabled-by-default", "exempt"))
def _entity_disabled_by_default(project: Project) -> None:
    """Exempt while no entity is disabled by default."""
    for name in project.entity_classes:
        assert (
            project.attribute(name, "_attr_entity_registry_enabled_default") is None
        ), name


def _translation_key(project: Project, name: str) -> str:
    """Return an entity class's translation key."""
    key = project.text(project.attribute(name, "_attr_translation_key"))
    assert key, f"{name} has no translation key"
    return key


@check(("entity-translations", "done"))
def _entity_translations(project: Project) -> None:
    """Every entity's name is translated (or is its device's, _attr_name = None)."""
    for name, platform in project.entities.items():
        key = _translation_key(project, name)
        named = project.strings["entity"].get(platform, {}).get(key, {}).get("name")
        own_name = project.attribute(name, "_attr_name")
        device_named = isinstance(own_name, ast.Constant) and own_name.value is None
        assert named or device_named, f"{name}: no entity.{platform}.{key}.name"


def _error_categories(project: Project) -> set[str]:
    """Return the `category` of every error class of the client and the dialer."""
    categories = set()
    for module in ("api", "dialer"):
        for node in project.modules[module].body:
            if isinstance(node, ast.ClassDef):
                info = ClassInfo(module, node)
                if (category := project.text(info.attrs.get("category"))) is not None:
                    categories.add(category)
    return categories


def _validated_fields(project: Project) -> set[str]:
    """Return the text fields of CallRequest, whose validation names the field."""
    request = project.classes["CallRequest"].node
    return {
        item.target.id
        for item in request.body
        if isinstance(item, ast.AnnAssign)
        and isinstance(item.target, ast.Name)
        and "str" in ast.unparse(item.annotation)
    }


def _expand(project: Project, expr: ast.expr) -> set[str]:
    """Return every translation key an expression can produce."""
    if (text := project.text(expr)) is not None:
        return {text}
    if isinstance(expr, ast.IfExp):
        return _expand(project, expr.body) | _expand(project, expr.orelse)
    if isinstance(expr, ast.JoinedStr) and len(expr.values) == 2:
        prefix, value = expr.values
        assert isinstance(prefix, ast.Constant), ast.unparse(expr)
        assert isinstance(value, ast.FormattedValue), ast.unparse(expr)
        attribute = _name(value.value)
        if attribute == "category":
            return {f"{prefix.value}{item}" for item in _error_categories(project)}
        if attribute == "field":
            return {f"{prefix.value}{item}" for item in _validated_fields(project)}
    raise AssertionError(f"cannot expand the translation key {ast.unparse(expr)}")


def _raised_keys(project: Project) -> set[str]:
    """Return every translation key of an error the integration raises."""
    keys = set()
    for module, tree in project.modules.items():
        for call in _raises(tree):
            if (key := _keyword(call, "translation_key")) is not None:
                assert project.text(_keyword(call, "translation_domain")) == DOMAIN, (
                    module
                )
                keys |= _expand(project, key)
            else:
                assert _name(call) not in HA_ERRORS, f"untranslated {ast.unparse(call)}"
    return keys


@check(("exception-translations", "done"))
def _exception_translations(project: Project) -> None:
    """Every raised error's message is translated, and every message is raised."""
    raised = _raised_keys(project)
    exceptions = project.strings["exceptions"]
    missing = sorted(
        key for key in raised if not exceptions.get(key, {}).get("message")
    )
    assert not missing, f"en.json has no exceptions.<key>.message for {missing}"
    assert not set(exceptions) - raised, (
        f"never raised: {sorted(set(exceptions) - raised)}"
    )


@check(("icon-translations", "done"))
def _icon_translations(project: Project) -> None:
    """Check that every entity, event type and action has an icon."""
    for name, platform in project.entities.items():
        key = _translation_key(project, name)
        icons = project.icons.get("entity", {}).get(platform, {}).get(key, {})
        assert icons.get("default", "").startswith("mdi:"), f"no icon for {name}"
        if (types := project.attribute(name, "_attr_event_types")) is not None:
            states = icons["state_attributes"]["event_type"]["state"]
            for event_type in ast.walk(types):
                if isinstance(event_type, ast.Name):
                    assert project.constants[event_type.id] in states, event_type.id
    for service in project.services:
        icon = project.icons.get("services", {}).get(service, {}).get("service", "")
        assert icon.startswith("mdi:"), f"no icon for the action {service}"


@check(("reconfiguration-flow", "done"))
def _reconfiguration_flow(project: Project) -> None:
    """Check that the account and each contact can be reconfigured."""
    assert "async_step_reconfigure" in project.classes["SpectronicsConfigFlow"].methods
    assert "async_step_reconfigure" in project.classes["ContactSubentryFlow"].methods
    assert "reconfigure" in project.strings["config"]["step"]
    assert "reconfigure_successful" in project.strings["config"]["abort"]


@check(("repair-issues", "done"))
def _repair_issues(project: Project) -> None:
    """Each repair issue is translated with a title and what to do, and is removed."""
    tree = project.modules["issues"]
    created = _calls(tree, "async_create_issue")
    assert created
    for call in created:
        key = project.text(_keyword(call, "translation_key"))
        assert key, ast.unparse(call)
        issue = project.strings["issues"][key]
        assert issue["title"]
        assert issue["description"]
    assert _calls(tree, "async_delete_issue")


@check(("stale-devices", "done"))
def _stale_devices(project: Project) -> None:
    """Check that a contact's device and entities belong to (and go with) its subentry."""
    update = _function(project.modules["entity"], "async_update_contact_devices")
    created = _calls(update, "async_get_or_create")
    assert created
    assert all(_keyword(call, "config_subentry_id") is not None for call in created)
    _dynamic_devices(project)


# Platinum


@check(("async-dependency", "done"))
def _async_dependency(project: Project) -> None:
    """Check that the client is asyncio-native on aiohttp, and there is no other dependency."""
    api = ast.unparse(project.modules["api"])
    assert "import aiohttp" in api
    for blocking in ("requests", "urllib.request", "http.client", "httpx", "socket"):
        assert f"import {blocking}" not in api, blocking
    client = project.classes["SpectronicsClient"]
    for method in ("place_call", "check_credentials", "_post"):
        assert isinstance(client.methods[method], ast.AsyncFunctionDef), method
    assert project.manifest.get("requirements", []) == []


@check(("inject-websession", "done"))
def _inject_websession(project: Project) -> None:
    """Check that the client takes Home Assistant's session and never makes its own."""
    init = project.classes["SpectronicsClient"].methods["__init__"]
    session = init.args.args[1]
    assert session.arg == "session"
    assert ast.unparse(session.annotation) == "aiohttp.ClientSession"
    for module, tree in project.modules.items():
        assert not _calls(tree, "ClientSession"), module
    for module in ("__init__", "config_flow"):
        assert _calls(project.modules[module], "async_get_clientsession"), module


@check(("strict-typing", "done"))
def _strict_typing(project: Project) -> None:
    """Check for mypy --strict in CI, and the typed entry in every entry signature."""
    mypy = project.pyproject["tool"]["mypy"]
    assert mypy["strict"] is True
    assert mypy["files"] == [f"custom_components/{DOMAIN}"]
    assert re.search(
        r"^check mypy$", (project.root / "scripts/lint").read_text(), re.MULTILINE
    )
    functions = {"async_setup_entry", "async_unload_entry", "async_remove_entry"}
    functions.add("async_get_config_entry_diagnostics")
    for module, tree in project.modules.items():
        for node in tree.body:
            if isinstance(node, ast.AsyncFunctionDef) and node.name in functions:
                annotation = node.args.args[1].annotation
                assert annotation is not None, f"{module}.{node.name}"
                assert ast.unparse(annotation) == "SpectronicsConfigEntry", (
                    f"{module}.{node.name}"
                )
    options = project.classes["SpectronicsConfigFlow"].methods["async_get_options_flow"]
    assert ast.unparse(options.args.args[0].annotation) == "SpectronicsConfigEntry"


PROJECT = Project(ROOT)


def test_every_rule_of_the_newest_list_exactly() -> None:
    """quality_scale.yaml lists each rule of core's list once, and nothing else."""
    listed = set(PROJECT.statuses)
    assert not set(RULES) - listed, f"missing: {sorted(set(RULES) - listed)}"
    assert not listed - set(RULES), f"unknown: {sorted(listed - set(RULES))}"


def test_rules_under_their_tier() -> None:
    """Each rule sits under the comment of its tier, as core's files are laid out."""
    tier = None
    for line in PROJECT.read("quality_scale.yaml").splitlines():
        if match := re.fullmatch(r"  # (\w+)", line):
            tier = match.group(1).lower()
        elif match := re.fullmatch(r"  ([a-z-]+):.*", line):
            assert RULES[match.group(1)] == tier, match.group(1)


def _assert_status(project: Project, rule: str) -> None:
    """Assert that a rule is done, or exempt with a reason."""
    status, comment = project.statuses[rule]
    assert status in STATUSES, f"{rule}: status {status!r}"
    assert status != "todo", f"{rule} is todo"
    if status == "exempt":
        assert comment, f"{rule} is exempt without a reason"
        assert comment.strip(), f"{rule} is exempt without a reason"


@pytest.mark.parametrize("rule", RULES)
def test_status(rule: str) -> None:
    """Each rule is done, or exempt with a reason; todo fails."""
    _assert_status(PROJECT, rule)


@pytest.mark.parametrize("rule", RULES)
def test_status_holds(rule: str) -> None:
    """The evidence of a done rule exists; the reason of an exempt rule still holds."""
    status, _ = PROJECT.statuses[rule]
    checker = CHECKS.get((rule, status))
    assert checker is not None, f"no checker for {rule}: {status}; write one"
    checker(PROJECT)


def test_manifest_quality_scale() -> None:
    """A scaled tier in the manifest needs every rule of it and below met.

    hassfest accepts the key in a custom integration's manifest but checks its rules for
    core integrations only, so this test does. Home Assistant itself reports every custom
    integration's quality scale as "custom", whatever the manifest says
    (loader.Integration.quality_scale).
    """
    declared = PROJECT.manifest.get("quality_scale")
    if declared is None:
        return
    assert declared in TIERS, declared
    required = [
        rule
        for rule, tier in RULES.items()
        if TIERS.index(tier) <= TIERS.index(declared)
    ]
    unmet = [
        rule for rule in required if PROJECT.statuses[rule][0] not in ("done", "exempt")
    ]
    assert not unmet, f"{declared} needs {unmet}"


# The checkers can fail: each breaks a copy of the project and expects its checker to
# notice. The repository itself is never touched.


def _replace(path: Path, old: str, new: str) -> None:
    """Replace text in a file of the copy, which must contain it."""
    text = path.read_text(encoding="utf-8")
    assert old in text, (path.name, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _json_edit(path: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Edit a JSON file of the copy."""
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _status(project: Project, rule: str, status: str, comment: str | None) -> None:
    """Set a rule's status in the copy's quality_scale.yaml."""
    path = project.integration / "quality_scale.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["rules"][rule] = (
        status if comment is None else {"status": status, "comment": comment}
    )
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


BREAKS: dict[str, tuple[str, Callable[[Project], None]]] = {
    "hass.data": (
        "runtime-data",
        lambda p: _replace(
            p.integration / "dialer.py", "self.hass = hass", "self.hass = hass.data"
        ),
    ),
    "no PARALLEL_UPDATES": (
        "parallel-updates",
        lambda p: _replace(
            p.integration / "notify.py", "PARALLEL_UPDATES = 0", "UPDATES = 0"
        ),
    ),
    "raised key untranslated": (
        "exception-translations",
        lambda p: _json_edit(
            p.integration / "translations/en.json",
            lambda d: d["exceptions"].pop("entry_not_loaded"),
        ),
    ),
    "untranslated error": (
        "exception-translations",
        lambda p: _replace(
            p.integration / "services.py",
            'raise ServiceValidationError(\n                translation_domain=DOMAIN,\n                translation_key="entry_required",',
            'raise ServiceValidationError(\n                "no entry",',
        ),
    ),
    "entity without has_entity_name": (
        "has-entity-name",
        lambda p: _replace(
            p.integration / "entity.py",
            "_attr_has_entity_name = True",
            "_attr_has_entity_name = False",
        ),
    ),
    "entity without icon": (
        "icon-translations",
        lambda p: _json_edit(
            p.integration / "icons.json", lambda d: d["entity"].pop("button")
        ),
    ),
    "action without icon": (
        "icon-translations",
        lambda p: _json_edit(
            p.integration / "icons.json",
            lambda d: d["services"].pop("call_until_answered"),
        ),
    ),
    "entity name untranslated": (
        "entity-translations",
        lambda p: _json_edit(
            p.integration / "translations/en.json",
            lambda d: d["entity"]["event"]["last_call"].pop("name"),
        ),
    ),
    "coverage gate lowered": (
        "test-coverage",
        lambda p: _replace(
            p.root / "pyproject.toml", "fail_under = 100", "fail_under = 90"
        ),
    ),
    "mypy not strict": (
        "strict-typing",
        lambda p: _replace(
            p.root / "pyproject.toml", "strict = true", "strict = false"
        ),
    ),
    "README without troubleshooting": (
        "docs-troubleshooting",
        lambda p: _replace(p.root / "README.md", "## Troubleshooting", "## Help"),
    ),
    "README action field undocumented": (
        "docs-actions",
        lambda p: _replace(p.root / "README.md", "| `rounds` |", "| rounds |"),
    ),
    "polling entity": (
        "appropriate-polling",
        lambda p: _replace(
            p.integration / "entity.py",
            "_attr_should_poll = False",
            "_attr_should_poll = True",
        ),
    ),
    "a discovery key": (
        "discovery",
        lambda p: _json_edit(
            p.integration / "manifest.json",
            lambda d: d.update(zeroconf=["_x._tcp.local."]),
        ),
    ),
    "new entity category": (
        "entity-category",
        lambda p: _replace(
            p.integration / "event.py",
            '_attr_translation_key = "last_call"',
            '_attr_translation_key = "last_call"\n    _attr_entity_category = EntityCategory.DIAGNOSTIC',
        ),
    ),
}


@pytest.fixture
def project_copy(tmp_path: Path) -> Project:
    """Return a copy of the project's checked files, to break."""
    shutil.copytree(
        ROOT / "custom_components" / DOMAIN,
        tmp_path / "custom_components" / DOMAIN,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name in (
        "README.md",
        "pyproject.toml",
        "scripts/lint",
        "tests/test_config_flow.py",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    if (ROOT / "blueprints").is_dir():
        shutil.copytree(ROOT / "blueprints", tmp_path / "blueprints")
    return Project(tmp_path)


@pytest.mark.parametrize("case", BREAKS)
def test_checker_fails_on_a_broken_copy(project_copy: Project, case: str) -> None:
    """A checker that passes on the repository fails once its evidence is broken."""
    rule, breaking = BREAKS[case]
    checker = CHECKS[(rule, PROJECT.statuses[rule][0])]
    checker(PROJECT)  # it passes on the repository (else this fails here, too) ...
    breaking(project_copy)  # ... and not once its evidence is broken
    with pytest.raises(AssertionError):
        checker(project_copy)


@pytest.mark.parametrize(
    ("status", "comment"),
    [("todo", None), ("exempt", None), ("exempt", " "), ("maybe", None)],
)
def test_status_fails_on_a_broken_copy(
    project_copy: Project, status: str, comment: str | None
) -> None:
    """A todo, an exemption without a reason, or an unknown status fails."""
    _status(project_copy, "diagnostics", status, comment)
    with pytest.raises(AssertionError):
        _assert_status(project_copy, "diagnostics")


def test_duplicate_rule_fails(project_copy: Project) -> None:
    """A rule given twice is refused, not silently merged."""
    path = project_copy.integration / "quality_scale.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  diagnostics: done\n", "utf-8")
    with pytest.raises(yaml.constructor.ConstructorError):
        _ = project_copy.statuses
