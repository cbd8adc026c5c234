"""The project's own files agree with the code and with each other.

translations/en.json has every key the code uses and no other; services.yaml and
icons.json match the registered actions; manifest.json, hacs.json, pyproject.toml,
CHANGELOG.md and the version tags agree; quality_scale.yaml names real rules and meets
the manifest's tier. Translation keys are read from the code as written (string
literals, module-level constants, and the values of module-level dicts they index), so
a key assembled at run time fails here: write it out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import fields
import json
import re
import subprocess
import tomllib
from typing import Any

from awesomeversion import AwesomeVersion
import voluptuous as vol
import yaml

from custom_components.spectronics_voip import api, config_flow
from custom_components.spectronics_voip.const import DOMAIN
from custom_components.spectronics_voip.dialer import INVALID_FIELD_KEYS, CallResult
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import validate_selector
from homeassistant.setup import async_setup_component

from .common import INTEGRATION

ROOT = INTEGRATION.parent.parent
# The oldest Home Assistant supported (README: "Supported:"); hacs.json declares it.
SUPPORTED_MINIMUM = "2025.4.0"
# What core's Marketplace and HACS read from the manifest.
MANIFEST_KEYS = (
    "domain",
    "name",
    "version",
    "documentation",
    "issue_tracker",
    "codeowners",
    "config_flow",
    "integration_type",
    "iot_class",
    "requirements",
)
# What the Marketplace reads from hacs.json (marketplace/utils/validate.py).
HACS_KEYS = {
    "content_in_root",
    "filename",
    "hacs",
    "hide_default_branch",
    "homeassistant",
    "name",
    "persistent_directory",
    "zip_release",
}
# ALL_RULES of core's script/hassfest/quality_scale.py (commit 008538e8), by tier.
RULES = {
    rule: tier
    for tier, rules in {
        "bronze": "action-setup appropriate-polling brands common-modules config-flow"
        " config-flow-test-coverage dependency-transparency docs-actions docs-conditions"
        " docs-high-level-description docs-installation-instructions"
        " docs-removal-instructions docs-triggers entity-event-setup entity-unique-id"
        " has-entity-name runtime-data test-before-configure test-before-setup"
        " unique-config-entry",
        "silver": "action-exceptions config-entry-unloading docs-configuration-parameters"
        " docs-installation-parameters entity-unavailable integration-owner"
        " log-when-unavailable parallel-updates reauthentication-flow test-coverage",
        "gold": "devices diagnostics discovery discovery-update-info docs-data-update"
        " docs-examples docs-known-limitations docs-supported-devices"
        " docs-supported-functions docs-troubleshooting docs-use-cases dynamic-devices"
        " entity-category entity-device-class entity-disabled-by-default"
        " entity-translations exception-translations icon-translations"
        " reconfiguration-flow repair-issues stale-devices",
        "platinum": "async-dependency inject-websession strict-typing",
    }.items()
    for rule in rules.split()
}
TIERS = tuple(dict.fromkeys(RULES.values()))
HA_ERRORS = {
    "HomeAssistantError",
    "ServiceValidationError",
    "ConfigEntryAuthFailed",
    "ConfigEntryError",
    "ConfigEntryNotReady",
}
# The dialer's failed call: its first argument is the translation key it raises.
CALL_FAILED = {"CallFailedError", "failed"}
# The abort reason of a flow helper called without `reason`.
DEFAULT_REASONS = {
    "_abort_if_unique_id_configured": "already_configured",
    "async_update_and_abort": "reconfigure_successful",  # a subentry's
}
FLOW_BASES = {"ConfigFlow": ("config",), "OptionsFlow": ("options",)}
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)

type Key = tuple[str, ...]


def _load(name: str) -> Any:
    """Return a JSON or YAML file of the integration."""
    text = (INTEGRATION / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else yaml.safe_load(text)


STRINGS = _load("translations/en.json")
ICONS = _load("icons.json")
SERVICES = _load("services.yaml")
MANIFEST = _load("manifest.json")
MODULES = {
    path.stem: ast.parse(path.read_text(encoding="utf-8"))
    for path in sorted(INTEGRATION.glob("*.py"))
}


def _assignments(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """Return the names a module or class body assigns, with their values."""
    found = {}
    for node in body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = node.value or ast.Constant(None)
    return found


# Module-level names of the integration (no two modules give one name two values).
CONSTANTS = {
    name: value
    for tree in MODULES.values()
    for name, value in _assignments(tree.body).items()
}


def _name(expr: ast.expr) -> str:
    """Return the name a call or subscript is made on."""
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return expr.id if isinstance(expr, ast.Name) else ""


def _keys(expr: ast.expr | None) -> set[str]:
    """Return the keys an expression can give, as written in the code."""
    match expr:
        case ast.Constant(value=str() as key):
            return {key}
        case ast.Name(id=name) if name in CONSTANTS:
            return _keys(CONSTANTS[name])
        case ast.IfExp(body=body, orelse=orelse):
            return _keys(body) | _keys(orelse)
        case ast.List(elts=items) | ast.Tuple(elts=items):
            return set().union(*(_keys(item) for item in items))
        case ast.Subscript(value=ast.Name(id=name)) if isinstance(
            table := CONSTANTS.get(name), ast.Dict
        ):
            return set().union(*(_keys(value) for value in table.values))
    raise AssertionError(f"write the key out: {ast.unparse(expr or ast.Pass())}")


def _section(call: ast.Call, key: str) -> set[Key]:
    """Return what en.json needs for the translation_key of a call."""
    name = _name(call.func)
    if name == "async_create_issue":
        return {("issues", key, "title"), ("issues", key, "description")}
    if name.endswith("SelectorConfig"):
        return {("selector", key)}
    assert name in HA_ERRORS, f"{name}(translation_key=...): add its section here"
    return {("exceptions", key, "message")}


def _entities() -> Iterator[tuple[str, str, dict[str, ast.expr]]]:
    """Yield each entity description's platform, translation key and keywords."""
    for module, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func).endswith("Description"):
                assert module in set(Platform), f"{module}: not a platform module"
                kwargs = {kw.arg: kw.value for kw in node.keywords if kw.arg}
                for key in _keys(kwargs["translation_key"]):
                    yield module, key, kwargs


def _flow_functions(cls: ast.ClassDef) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Return a flow's methods and the module's functions they call."""
    tree = MODULES["config_flow"]
    helpers = {node.name: node for node in tree.body if isinstance(node, FUNCTIONS)}
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    todo = [node for node in cls.body if isinstance(node, FUNCTIONS)]
    while todo:
        if (function := todo.pop()) not in found:
            found.append(function)
            todo += [
                helpers[node.id]
                for node in ast.walk(function)
                if isinstance(node, ast.Name) and node.id in helpers
            ]
    return found


def _flows() -> Iterator[tuple[Key, ast.ClassDef]]:
    """Yield each flow class of config_flow.py with its section of en.json."""
    tree = MODULES["config_flow"]
    subentry_types = {
        _name(value): next(iter(_keys(key)))
        for node in ast.walk(tree)
        if isinstance(node, FUNCTIONS)
        and node.name == "async_get_supported_subentry_types"
        for table in ast.walk(node)
        if isinstance(table, ast.Dict)
        for key, value in zip(table.keys, table.values, strict=True)
    }
    for cls in (node for node in tree.body if isinstance(node, ast.ClassDef)):
        bases = {_name(base) for base in cls.bases}
        if "ConfigSubentryFlow" in bases:
            yield ("config_subentries", subentry_types[cls.name]), cls
        for base in bases & set(FLOW_BASES):
            yield FLOW_BASES[base], cls


def _flow_keys(prefix: Key, cls: ast.ClassDef) -> tuple[set[Key], set[Key]]:
    """Return the keys a flow needs, and those it may have: steps, fields, errors."""
    need: set[Key] = set()
    may: set[Key] = set()
    for function in _flow_functions(cls):
        for node in ast.walk(function):
            if isinstance(node, ast.Call):
                kwargs = {kw.arg: kw.value for kw in node.keywords}
                name = _name(node.func)
                if name == "async_show_form":
                    for step, fields in _step_forms(
                        kwargs["step_id"], kwargs.get("data_schema")
                    ):
                        may |= {
                            (*prefix, "step", step, text)
                            for text in ("title", "description")
                        }
                        for field in fields:
                            need |= {
                                (*prefix, "step", step, part, field)
                                for part in ("data", "data_description")
                            }
                elif "reason" in kwargs:
                    need |= {
                        (*prefix, "abort", reason) for reason in _keys(kwargs["reason"])
                    }
                elif name == "async_update_reload_and_abort":
                    reason = "reauth" if "reauth" in function.name else "reconfigure"
                    need.add((*prefix, "abort", f"{reason}_successful"))
                elif name in DEFAULT_REASONS:
                    need.add((*prefix, "abort", DEFAULT_REASONS[name]))
            need |= {(*prefix, "error", key) for key in _form_errors(node)}
    if prefix[0] == "config_subentries":
        need |= {(*prefix, "entry_type"), (*prefix, "initiate_flow", "user")}
        if any(
            function.name == "async_step_reconfigure"
            for function in cls.body
            if isinstance(function, FUNCTIONS)
        ):
            need.add((*prefix, "initiate_flow", "reconfigure"))
    return need, may


def _form_errors(node: ast.AST) -> set[str]:
    """Return the form errors a statement sets: errors[field] = key, {field: key}."""
    if (
        isinstance(node, ast.Assign)
        and isinstance(target := node.targets[0], ast.Subscript)
        and _name(target.value) == "errors"
    ):
        return _keys(node.value)
    if isinstance(node, ast.Return | ast.Assign) and isinstance(node.value, ast.Dict):
        if isinstance(node, ast.Return) or _name(node.targets[0]) == "errors":
            return {
                value.value
                for value in node.value.values
                if isinstance(value, ast.Constant) and isinstance(value.value, str)
            }
    return set()


def _step_forms(
    step_id: ast.expr, data_schema: ast.expr | None
) -> list[tuple[str, list[str]]]:
    """Return each step a form can show, with its fields.

    STEPS[kind] with SCHEMAS[kind], two module dicts keyed alike, pairs their values;
    anything else shows the schema's fields under every step the step id can be.
    """
    tables = [
        node.value.id
        for node in ast.walk(data_schema or ast.Pass())
        if isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and isinstance(getattr(config_flow, node.value.id, None), dict)
    ]
    if tables and isinstance(step_id, ast.Subscript):
        steps = CONSTANTS[_name(step_id.value)]
        assert isinstance(steps, ast.Dict)
        schemas = getattr(config_flow, tables[0])
        return [
            (step, [str(marker) for marker in schemas[kind].schema])
            for kind, value in zip(
                getattr(config_flow, _name(step_id.value)), steps.values, strict=True
            )
            for step in _keys(value)
        ]
    fields = _form_fields(data_schema)
    return [(step, fields) for step in _keys(step_id)]


def _form_fields(expr: ast.expr | None) -> list[str]:
    """Return the fields of the module-level schemas a form's data_schema uses."""
    schemas = [
        getattr(config_flow, node.id)
        for node in ast.walk(expr or ast.Pass())
        if isinstance(node, ast.Name)
        and isinstance(getattr(config_flow, node.id, None), vol.Schema)
    ]
    return [str(marker) for schema in schemas for marker in schema.schema]


def _expected() -> tuple[set[Key], set[Key]]:
    """Return the translations the code and services.yaml need, and those allowed."""
    need: set[Key] = set()
    may: set[Key] = set()
    for tree in MODULES.values():
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            if (
                _name(call.func) in CALL_FAILED
                and call.args
                and _name(call.args[0]) != "translation_key"
            ):
                need |= {("exceptions", key, "message") for key in _keys(call.args[0])}
            if _name(call.func).endswith("Description"):
                continue  # see _entities
            for keyword in call.keywords:
                # CallFailedError passes on the key it was given.
                if keyword.arg == "translation_key" and _name(keyword.value) != (
                    "translation_key"
                ):
                    need |= set().union(
                        *(_section(call, key) for key in _keys(keyword.value))
                    )
    # A call's result (but its account) is the "Last call" event's data.
    attributes = {field.name for field in fields(CallResult)} - {"config_entry_id"}
    # The names of the extra attributes a platform's entities return.
    extra = {
        module: {
            name
            for node in ast.walk(tree)
            if isinstance(node, FUNCTIONS) and node.name == "extra_state_attributes"
            for ret in ast.walk(node)
            if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Dict)
            for key in ret.value.keys
            if key is not None
            for name in _keys(key)
        }
        for module, tree in MODULES.items()
    }
    for platform, key, kwargs in _entities():
        entity = ("entity", platform, key)
        may |= {(*entity, "state_attributes", name, "name") for name in extra[platform]}
        if ast.unparse(kwargs.get("name", ast.Pass())) != "None":
            need.add((*entity, "name"))  # else the device's name is the entity's
        if event_types := kwargs.get("event_types"):
            states = (*entity, "state_attributes", "event_type", "state")
            need |= {(*states, event_type) for event_type in _keys(event_types)}
            # Each attribute may have a name, and one whose values are a module's
            # <NAME>_OPTIONS the names of those values.
            may |= {(*entity, "state_attributes", name, "name") for name in attributes}
            for name in attributes:
                if isinstance(
                    options := CONSTANTS.get(f"{name.upper()}_OPTIONS"), ast.Tuple
                ):
                    states = (*entity, "state_attributes", name, "state")
                    may |= {(*states, value) for value in _keys(options)}
    for action, spec in SERVICES.items():
        need |= {("services", action, text) for text in ("name", "description")}
        for field, field_spec in (spec or {}).get("fields", {}).items():
            need |= {
                ("services", action, "fields", field, text)
                for text in ("name", "description")
            }
            for config in field_spec.get("selector", {}).values():
                if key := (config or {}).get("translation_key"):
                    need.add(("selector", key))
    for prefix, cls in _flows():
        flow_need, flow_may = _flow_keys(prefix, cls)
        need |= flow_need
        may |= flow_may
    return need, may


def _leaves(data: dict[str, Any], path: Key = ()) -> Iterator[Key]:
    """Yield the path of every text in a translations file."""
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*path, key))
        else:
            yield (*path, key)


def test_translations_match_the_code() -> None:
    """Every key the code and services.yaml use is in en.json, and en.json has no other."""
    need, may = _expected()
    leaves = set(_leaves(STRINGS))

    def under(leaf: Key, prefix: Key) -> bool:
        return leaf[: len(prefix)] == prefix

    missing = sorted(
        ".".join(key) for key in need if not any(under(leaf, key) for leaf in leaves)
    )
    unused = sorted(
        ".".join(leaf)
        for leaf in leaves
        if not any(under(leaf, key) for key in need | may)
    )
    assert (missing, unused) == ([], []), (
        f"missing from en.json: {missing}; unused: {unused}"
    )


def test_every_client_error_has_its_translation() -> None:
    """Each client error reaches a translated failure; each call field its key.

    The dialer maps client errors to their keys in one except chain: an error class
    without its own handler would end untranslated.
    """
    place = next(
        node
        for node in ast.walk(MODULES["dialer"])
        if isinstance(node, FUNCTIONS) and node.name == "_async_place"
    )
    handled = tuple(
        getattr(api, _name(handler.type))
        for node in ast.walk(place)
        if isinstance(node, ast.Try)
        for handler in node.handlers
        if handler.type is not None and hasattr(api, _name(handler.type))
    )
    classes, unhandled = list(api.SpectronicsError.__subclasses__()), []
    while classes:
        cls = classes.pop()
        classes += cls.__subclasses__()
        # Validation errors are raised, translated, before anything is sent.
        if not issubclass(cls, (*handled, api.SpectronicsValidationError)):
            unhandled.append(cls.__name__)
    assert unhandled == []
    text_fields = {
        field.name for field in fields(api.CallRequest) if "str" in str(field.type)
    }
    assert text_fields == set(INVALID_FIELD_KEYS)


async def test_services_yaml_and_icons_match_the_actions(hass: HomeAssistant) -> None:
    """services.yaml declares each registered action's fields; icons.json has its icon."""
    assert await async_setup_component(hass, DOMAIN, {})
    actions = hass.services.async_services_for_domain(DOMAIN)
    assert set(SERVICES) == set(actions)
    registered = {
        (action, str(marker)): (
            isinstance(marker, vol.Required),
            marker.default() if callable(marker.default) else marker.default,
        )
        for action, service in actions.items()
        for marker in service.schema.schema
    }
    declared = {
        (action, field): (
            spec.get("required", False),
            spec.get("default", vol.UNDEFINED),
        )
        for action, action_spec in SERVICES.items()
        for field, spec in (action_spec or {}).get("fields", {}).items()
    }
    differ = {
        field: (declared.get(field), registered.get(field))
        for field in declared.keys() | registered.keys()
        if declared.get(field) != registered.get(field)
    }
    assert differ == {}, "(required, default): services.yaml's, then the schema's"
    for spec in SERVICES.values():
        for field_spec in (spec or {}).get("fields", {}).values():
            validate_selector(field_spec["selector"])
    icons = {action: icon["service"] for action, icon in ICONS["services"].items()}
    assert set(icons) == set(actions)
    entity_icons = {
        (platform, key) for platform, keys in ICONS["entity"].items() for key in keys
    }
    assert entity_icons == {(platform, key) for platform, key, _ in _entities()}
    assert all(icon.startswith("mdi:") for icon in icons.values())


def test_manifest() -> None:
    """The manifest has what HACS and the Marketplace read."""
    assert [key for key in MANIFEST_KEYS if key not in MANIFEST] == [], "missing keys"
    assert MANIFEST["domain"] == INTEGRATION.name == DOMAIN
    assert MANIFEST["config_flow"] is True
    assert MANIFEST["documentation"].startswith("https://")
    assert MANIFEST["issue_tracker"].startswith("https://")
    assert MANIFEST["codeowners"]
    assert all(owner.startswith("@") for owner in MANIFEST["codeowners"])


def test_versions_agree() -> None:
    """manifest.json, pyproject.toml and the newest CHANGELOG.md entry: one version."""
    version = MANIFEST["version"]
    assert AwesomeVersion(version).valid
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == version, "pyproject.toml's version"
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## \[(\d[^\]]*)\]", changelog, re.MULTILINE)
    assert released[:1] == [version], "the newest CHANGELOG.md entry"


def test_readme_names_the_browser_tests_releases() -> None:
    """The README's Supported line names the oldest and newest release in a browser.

    The browser tests run on what requirements_dev.txt pins per interpreter.
    """
    pins = sorted(
        re.findall(
            r"^homeassistant==([^;\s]+)",
            (ROOT / "requirements_dev.txt").read_text(encoding="utf-8"),
            re.MULTILINE,
        ),
        key=AwesomeVersion,
    )
    supported = next(
        line
        for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("Supported:")
    )
    assert f"in a browser on {pins[0]} and {pins[-1]})" in supported
    assert f"Home Assistant {SUPPORTED_MINIMUM} and newer" in supported


def test_hacs_json() -> None:
    """hacs.json has a name, the supported minimum, and only keys that are read."""
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert set(hacs) - HACS_KEYS == set(), "keys the Marketplace does not read"
    assert hacs["name"]
    assert hacs["homeassistant"] == SUPPORTED_MINIMUM


def test_version_tags_name_their_manifests_version() -> None:
    """Each version tag of the repository tags a manifest of that version."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout

    if not (ROOT / ".git").exists():
        return  # not a clone: no tags
    manifest = INTEGRATION.relative_to(ROOT) / "manifest.json"
    wrong = {
        tag: version
        for tag in git("tag", "--list").split()
        if re.fullmatch(r"v?\d+(\.\d+)*\S*", tag)
        and (version := json.loads(git("show", f"{tag}:{manifest}"))["version"]) != tag
    }
    assert wrong == {}, "tag: the version of the manifest it tags"


def test_quality_scale() -> None:
    """quality_scale.yaml names real rules, and meets the manifest's tier."""
    rules = {
        rule: value if isinstance(value, dict) else {"status": value}
        for rule, value in _load("quality_scale.yaml")["rules"].items()
    }
    assert set(rules) - set(RULES) == set(), "not rules of the quality scale"
    wrong = [
        rule
        for rule, value in rules.items()
        if value.get("status") not in ("done", "todo", "exempt")
        or (value["status"] == "exempt" and not value.get("comment"))
    ]
    assert wrong == [], "a status is done, todo or exempt (with a comment)"
    tier = MANIFEST["quality_scale"]
    assert tier in TIERS
    unmet = [
        rule
        for rule, rule_tier in RULES.items()
        if TIERS.index(rule_tier) <= TIERS.index(tier)
        and rules.get(rule, {}).get("status") not in ("done", "exempt")
    ]
    assert unmet == [], f"{tier} needs these rules done or exempt"
