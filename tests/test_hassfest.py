"""hassfest's checks for custom integrations, applied to our files.

hassfest (Home Assistant core's script/hassfest) is not on PyPI, and CI reaches PyPI,
Debian and npm only, so .ci/run cannot install it. These tests apply, in code of their
own, the rules that `python -m script.hassfest --integration-path ...` applies to a
custom integration, read from these hassfest modules (home-assistant/core unless said):

- manifest.py (joostlek/core 671a44ce, the newest stored): CUSTOM_INTEGRATION_MANIFEST_SCHEMA
  (documentation over https and not core's docs, version an AwesomeVersion of a known
  strategy, issue_tracker a URL, integration_type, iot_class, quality_scale values),
  the domain matching the folder and not a core integration's, an IoT class, no
  'version'-less manifest, keys sorted domain, name, then alphabetical;
  integration_type.py (1753d5c0): a config flow needs integration_type;
  codeowners.py (0000c79f): owners are GitHub handles; config_flow.py (02e61246):
  config_flow needs config_flow.py, a discoverable flow sets a unique ID;
  requirements.py (00308d9d, format check): no spaces, a package pattern; json.py
  (05698921): every JSON file parses.
- config_schema.py (1ecdb9be): async_setup needs a CONFIG_SCHEMA (ours must be
  cv.config_entry_only_config_schema(DOMAIN), as the actions are set up in async_setup).
- services.py (01a7395c): services.yaml's schema for custom integrations (name and
  description allowed there, fields, sections, unique field names, filters only with a
  target), every selector through homeassistant.helpers.selector.validate_selector, a
  select selector's translation_key in the translations, a services.yaml when actions
  are registered.
- translations.py (00a70521): translations/en.json's schema (config, options,
  config_subentries with entry_type and initiate_flow, entity, exceptions, issues,
  services, ... and no other top-level key), every text without HTML, URLs, single-quoted
  or invalid placeholders, combined references or outer spaces, no placeholder in entity
  states, data_description keys among the data, an issue's description or fix_flow, the
  translations folder named translations.
- icons.py (NewBabyFace/core 2077c28a, a core fork, the newest stored; earlier core copies
  predate service icon objects): icons.json's schema for a service integration (entity
  icons by translation key with default, state, range and state_attributes; a state icon
  never the default's, which hassfest enforces for state attributes and here also for
  entity states; service icons as {"service", "sections"} or the shorthand string; every
  icon mdi:).
- dependencies.py (02c260ad): homeassistant.components imports only of platforms,
  internal integrations, the manifest's dependencies, or platforms we provide.
- conditions.py (193c324a), triggers.py (11d3d568): a condition or trigger platform needs
  its conditions.yaml or triggers.yaml.
- quality_scale.py (008538e8) skips custom integrations; tests/test_quality_scale.py
  checks quality_scale.yaml instead.

Stricter than hassfest, as core is held to it (each marked "core rule" below): every
action and field has its name and description in en.json and none in services.yaml (a
custom integration's translations are its one source of texts), every action has an
icon, issue_tracker and config_flow are required (HACS and the Marketplace read them),
no strings.json and no [%key:...%] reference (neither works in a custom integration),
and every entity translation_key exists in en.json and icons.json.

Every check returns its errors, so that the tests at the end can break a copy of the
integration and see each check fail.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
import importlib.util
import json
from pathlib import Path
import re
import shutil
import string
from typing import Any
from urllib.parse import urlparse

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from awesomeversion.exceptions import AwesomeVersionException
import pytest
import voluptuous as vol
from voluptuous.humanize import humanize_error

from homeassistant.const import Platform
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv, selector, service
from homeassistant.helpers.icon import convert_shorthand_service_icon
from homeassistant.requirements import DISCOVERY_INTEGRATIONS
from homeassistant.util.yaml import load_yaml_dict

DOMAIN = "spectronics_voip"
INTEGRATION = Path(__file__).parent.parent / "custom_components" / DOMAIN

INTEGRATION_TYPES = [
    "device",
    "entity",
    "hardware",
    "helper",
    "hub",
    "service",
    "system",
]
IOT_CLASSES = [
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
]
QUALITY_SCALES = ["bronze", "silver", "gold", "platinum", "custom", "no_score"]
QUALITY_SCALES += ["internal", "legacy"]
VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]
# Required here: hassfest's (domain, name, documentation, codeowners, iot_class, version,
# integration_type with a config flow), plus issue_tracker and config_flow.
REQUIRED_MANIFEST_KEYS = [
    "domain",
    "name",
    "codeowners",
    "config_flow",
    "documentation",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "version",
]
CORE_DOCS = "https://www.home-assistant.io/integrations"
DISCOVERY_STEPS = ["bluetooth", "discovery", "dhcp", "hassio", "homekit", "mqtt"]
DISCOVERY_STEPS += ["ssdp", "usb", "zeroconf"]
# dependencies.py's integrations any integration may import, besides entity platforms.
INTERNAL_COMPONENTS = {
    "alert",
    "automation",
    "conversation",
    "default_config",
    "device_automation",
    "frontend",
    "group",
    "homeassistant",
    "input_boolean",
    "input_button",
    "input_datetime",
    "input_number",
    "input_select",
    "input_text",
    "media_source",
    "onboarding",
    "panel_custom",
    "persistent_notification",
    "person",
    "script",
    "shopping_list",
    "sun",
    "system_health",
    "system_log",
    "timer",
    "webhook",
    "websocket_api",
    "zone",
    "mjpeg",
    "stream",
}
TRANSLATION_KEY = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
SLUG = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
URL = re.compile(
    r"(?:(?:https?|ftps?|scp|mqtts?|socks5|socket)://|www\.)"
    r"[a-z0-9]+(?:[-.][a-z0-9]+)*\.[a-z]{2,5}",
    re.IGNORECASE,
)
PACKAGE = re.compile(r"(?:--\S+\s)?[-_,.\w\[\]]+(?:(?:===|==|>=|<=|~=|!=|<|>).*)?")

type Check = Callable[[Path], list[str]]


def _json(path: Path, name: str) -> Any:
    """Return a JSON file of the integration."""
    return json.loads((path / name).read_text(encoding="utf-8"))


def _schema_errors(schema: vol.Schema, data: Any, what: str) -> list[str]:
    """Return the schema's error for data, or none."""
    try:
        schema(data)
    except vol.Invalid as err:
        return [f"{what}: {humanize_error(data, err)}"]
    return []


# manifest.json: manifest.py, integration_type.py, codeowners.py, config_flow.py,
# requirements.py


def _documentation(value: str) -> str:
    """Accept the documentation of a custom integration: https, not core's pages."""
    if urlparse(value).scheme != "https":
        raise vol.Invalid("documentation must be an https URL")
    if value.startswith(CORE_DOCS):
        raise vol.Invalid("documentation must be the custom integration's own")
    return value


def _version(value: str) -> str:
    """Accept a version hassfest can order."""
    try:
        AwesomeVersion(value, ensure_strategy=VERSION_STRATEGIES)
    except AwesomeVersionException as err:
        raise vol.Invalid(f"{value!r} is not a valid version") from err
    return value


def _handle(value: str) -> str:
    """Accept a GitHub handle."""
    if not value.startswith("@"):
        raise vol.Invalid("code owners are GitHub handles (@name)")
    return value


MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("domain"): str,
        vol.Required("name"): str,
        vol.Required("codeowners"): [vol.All(str, _handle)],
        vol.Required("config_flow"): bool,
        vol.Required("documentation"): vol.All(vol.Url(), _documentation),
        vol.Required("integration_type"): vol.In(INTEGRATION_TYPES),
        vol.Required("iot_class"): vol.In(IOT_CLASSES),
        vol.Required("issue_tracker"): vol.Url(),
        vol.Required("version"): vol.All(str, _version),
        vol.Optional("after_dependencies"): [str],
        vol.Optional("dependencies"): [str],
        vol.Optional("import_executor"): bool,
        vol.Optional("loggers"): [str],
        vol.Optional("quality_scale"): vol.In(QUALITY_SCALES),
        vol.Optional("requirements"): [str],
        vol.Optional("single_config_entry"): bool,
    }
)


def check_manifest(path: Path) -> list[str]:
    """Return manifest.json's errors, as hassfest's manifest plugins find them."""
    try:
        manifest = _json(path, "manifest.json")
    except ValueError as err:
        return [f"manifest.json is not JSON: {err}"]
    errors = _schema_errors(MANIFEST_SCHEMA, manifest, "manifest.json")
    if manifest.get("domain") != path.name:
        errors.append("the domain does not match the folder name")
    elif importlib.util.find_spec(f"homeassistant.components.{path.name}"):
        errors.append("the domain is a core integration's")
    order = sorted(
        manifest, key=lambda key: {"domain": "0", "name": "1"}.get(key, f"2{key}")
    )
    if list(manifest) != order:
        errors.append(f"keys not sorted (domain, name, then alphabetical): {order}")
    if manifest.get("config_flow") and not (path / "config_flow.py").is_file():
        errors.append("config_flow is true but there is no config_flow.py")
    for requirement in manifest.get("requirements", []):
        if " " in requirement or not PACKAGE.fullmatch(requirement):
            errors.append(f"malformed requirement {requirement!r}")
    return errors


def check_json(path: Path) -> list[str]:
    """Return the JSON files of the integration that do not parse (json.py)."""
    errors = []
    for file in sorted(path.rglob("*.json")):
        try:
            json.loads(file.read_text(encoding="utf-8"))
        except ValueError:
            errors.append(f"{file.relative_to(path)} is not JSON")
    return errors


def check_config_flow_discovery(path: Path) -> list[str]:
    """Return an error if a discoverable config flow sets no unique ID (config_flow.py)."""
    flow = (path / "config_flow.py").read_text(encoding="utf-8")
    if not any(f"async_step_{step}" in flow for step in DISCOVERY_STEPS):
        return []
    if "self.async_set_unique_id" in flow:
        return []
    return ["a discoverable config flow must set a unique ID"]


# __init__.py: config_schema.py


def check_config_schema(path: Path) -> list[str]:
    """Return an error unless async_setup comes with the config-entry-only schema."""
    tree = ast.parse((path / "__init__.py").read_text(encoding="utf-8"))
    defines = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    if not {"async_setup", "setup"} & defines:
        return []
    schemas = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(
            getattr(target, "id", None) == "CONFIG_SCHEMA" for target in node.targets
        )
    ]
    if not schemas:
        return ["async_setup is defined but CONFIG_SCHEMA is not"]
    if ast.unparse(schemas[0]) != "cv.config_entry_only_config_schema(DOMAIN)":
        return [f"CONFIG_SCHEMA is {ast.unparse(schemas[0])}, not config-entry-only"]
    return []


# services.yaml: services.py


def _exists(value: Any) -> Any:
    """Refuse a null value."""
    if value is None:
        raise vol.Invalid("value cannot be None")
    return value


def _unique_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Refuse a field name used twice, in the service and its sections."""
    names: list[str] = []
    for key, value in fields.items():
        names.extend(value["fields"] if value and "fields" in value else [key])
    if duplicates := {name for name in names if names.count(name) > 1}:
        raise vol.Invalid(f"fields used twice: {sorted(duplicates)}")
    return fields


def _service_schema(targeted: bool) -> vol.Schema:
    """Return the schema of one action of a custom integration."""
    texts = {vol.Optional("name"): str, vol.Optional("description"): str}
    field: dict[Any, Any] = {
        **texts,
        vol.Optional("example"): _exists,
        vol.Optional("default"): _exists,
        vol.Optional("required"): bool,
        vol.Optional("advanced"): bool,
        vol.Optional("selector"): selector.validate_selector,
    }
    if targeted:
        field[vol.Optional("filter")] = {
            vol.Exclusive("attribute", "filter"): {
                vol.Required(str): [vol.All(str, service.validate_attribute_option)]
            },
            vol.Exclusive("supported_features", "filter"): [
                vol.All(str, service.validate_supported_feature)
            ],
        }
    section = {
        **texts,
        vol.Optional("collapsed"): bool,
        vol.Required("fields"): {str: vol.Schema(field)},
    }
    schema: dict[Any, Any] = {
        **texts,
        vol.Optional("fields"): vol.All(
            {str: vol.Any(vol.Schema(field), vol.Schema(section))}, _unique_fields
        ),
    }
    if targeted:
        schema[vol.Required("target")] = vol.Any(
            selector.TargetSelector.CONFIG_SCHEMA, None
        )
    return vol.Schema(schema)


SERVICES_SCHEMA = vol.Schema(
    {cv.slug: vol.Any(_service_schema(True), _service_schema(False), None)}
)


def _registered_services(path: Path) -> set[str]:
    """Return the actions the code registers, from hass.services.async_register calls."""
    constants = {}
    services = set()
    for file in sorted(path.glob("*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        constants[target.id] = node.value.value
            elif isinstance(node, ast.AnnAssign) and isinstance(
                node.value, ast.Constant
            ):
                if isinstance(node.target, ast.Name):
                    constants[node.target.id] = node.value.value
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("async_register", "register")
                and len(node.args) >= 2
            ):
                services.add(node.args[1])
    return {
        arg.value
        if isinstance(arg, ast.Constant)
        else constants.get(getattr(arg, "id", ""))
        for arg in services
    }


def _service_texts(services: dict[str, Any], strings: dict[str, Any]) -> list[str]:
    """Return the actions and fields without a name or description in en.json (core rule)."""
    errors = []
    translated = strings.get("services", {})
    for name, schema in services.items():
        texts = translated.get(name, {})
        errors.extend(
            f"action {name}: no {key} in en.json"
            for key in ("name", "description")
            if not texts.get(key)
        )
        for field, field_schema in (schema or {}).get("fields", {}).items():
            if "fields" in (field_schema or {}):
                continue  # a section
            field_texts = texts.get("fields", {}).get(field, {})
            errors.extend(
                f"action {name} field {field}: no {key} in en.json"
                for key in ("name", "description")
                if not field_texts.get(key)
            )
    return errors


def _yaml_texts(services: dict[str, Any]) -> list[str]:
    """Return texts written in services.yaml instead of en.json (core rule)."""
    errors = []
    for name, schema in services.items():
        errors.extend(
            f"action {name}: {key} in services.yaml"
            for key in ("name", "description")
            if key in (schema or {})
        )
        for field, field_schema in (schema or {}).get("fields", {}).items():
            errors.extend(
                f"action {name} field {field}: {key} in services.yaml"
                for key in ("name", "description")
                if key in (field_schema or {})
            )
    return errors


def check_services(path: Path) -> list[str]:
    """Return services.yaml's errors (services.py, plus the core rules)."""
    registered = _registered_services(path)
    try:
        services = load_yaml_dict(str(path / "services.yaml"))
    except FileNotFoundError:
        return (
            ["actions are registered but there is no services.yaml"]
            if registered
            else []
        )
    except HomeAssistantError as err:
        return [f"services.yaml does not load: {err}"]
    errors = _schema_errors(SERVICES_SCHEMA, services, "services.yaml")
    if errors:
        return errors
    if registered != set(services):
        errors.append(
            f"registered {sorted(registered)}, services.yaml has {sorted(services)}"
        )
    strings = _json(path, "translations/en.json")
    errors += _service_texts(services, strings)
    errors += _yaml_texts(services)
    for name, schema in services.items():
        for field, field_schema in (schema or {}).get("fields", {}).items():
            key = (
                (field_schema or {})
                .get("selector", {})
                .get("select", {})
                .get("translation_key")
            )
            if key and key not in strings.get("selector", {}):
                errors.append(
                    f"action {name} field {field}: selector key {key} not translated"
                )
    return errors


# translations/en.json: translations.py


def _text(*, placeholders: bool = True) -> Callable[[Any], str]:
    """Return a validator of one translated text."""

    def validate(value: Any) -> str:
        text = cv.string_with_no_html(value)  # refuses HTML, and anything but a string
        if re.search(r"'\{\w+\}'", text):
            raise vol.Invalid("a placeholder inside single quotes")
        try:
            fields = [
                field for _, field, _, _ in string.Formatter().parse(text) if field
            ]
        except ValueError as err:
            raise vol.Invalid(f"unbalanced braces: {err}") from err
        if fields and not placeholders:
            raise vol.Invalid("no placeholders allowed here")
        if not all(field.isidentifier() for field in fields):
            raise vol.Invalid("placeholders must be identifiers")
        if re.search(r".+\[%|%\].+", text):
            raise vol.Invalid("a reference combined with other text")
        if text != text.strip():
            raise vol.Invalid("leading or trailing spaces")
        if URL.search(text):
            raise vol.Invalid("a URL: use a description placeholder")
        return text

    return validate


TEXT = _text()
STATE_TEXT = _text(placeholders=False)


def _key(value: Any) -> str:
    """Accept a translation key: lowercase words joined by single - or _."""
    if not isinstance(value, str) or not TRANSLATION_KEY.fullmatch(value):
        raise vol.Invalid(f"invalid translation key {value!r}")
    return value


def _slug(value: Any) -> str:
    """Accept a slug: lowercase words joined by single underscores."""
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise vol.Invalid(f"invalid slug {value!r}")
    return value


def _data_descriptions(flow: dict[str, Any]) -> dict[str, Any]:
    """Refuse a data_description key that is not a data key of its step."""
    for step_id, step in flow["step"].items():
        if extra := set(step.get("data_description", {})) - set(step.get("data", {})):
            raise vol.Invalid(f"step {step_id}: data_description without data: {extra}")
    return flow


def _flow_schema(*, subentry: bool = False) -> vol.All:
    """Return the schema of a config, options or subentry flow's texts."""
    texts = {str: TEXT}
    step = {
        vol.Optional("title"): TEXT,
        vol.Optional("description"): TEXT,
        vol.Optional("data"): texts,
        vol.Optional("data_description"): texts,
        vol.Optional("menu_options"): texts,
        vol.Optional("menu_option_descriptions"): texts,
        vol.Optional("submit"): TEXT,
        vol.Optional("sections"): {
            str: {
                vol.Optional("name"): TEXT,
                vol.Optional("description"): TEXT,
                vol.Optional("data"): texts,
                vol.Optional("data_description"): texts,
            }
        },
    }
    schema: dict[Any, Any] = {
        vol.Required("step"): {str: step},
        vol.Optional("flow_title"): TEXT,
        vol.Optional("error"): texts,
        vol.Optional("abort"): texts,
        vol.Optional("progress"): texts,
        vol.Optional("create_entry"): texts,
    }
    if subentry:
        schema[vol.Required("entry_type")] = TEXT
        schema[vol.Required("initiate_flow")] = {vol.Required("user"): TEXT, str: TEXT}
    else:
        schema[vol.Optional("initiate_flow")] = {vol.Required("user"): TEXT}
    return vol.All(vol.Schema(schema), _data_descriptions)


def _keyed(value: Any, *, slug: bool = False) -> dict[Any, Any]:
    """Return a mapping schema keyed by translation keys (or slugs)."""
    return vol.Schema({vol.All(str, _slug if slug else _key): value})


_STATES = _keyed(STATE_TEXT)
_ENTITY = {
    vol.Optional("name"): TEXT,
    vol.Optional("state"): _STATES,
    vol.Optional("state_attributes"): _keyed(
        {vol.Optional("name"): STATE_TEXT, vol.Optional("state"): _STATES}
    ),
    vol.Optional("unit_of_measurement"): STATE_TEXT,
}
_FIELDS = _keyed(
    {
        vol.Required("name"): str,
        vol.Required("description"): TEXT,
        vol.Optional("example"): TEXT,
    }
)
TRANSLATIONS_SCHEMA = vol.Schema(
    {
        vol.Optional("title"): TEXT,
        vol.Optional("config"): _flow_schema(),
        vol.Optional("config_subentries"): _keyed(
            _flow_schema(subentry=True), slug=True
        ),
        vol.Optional("options"): _flow_schema(),
        vol.Optional("device"): _keyed({vol.Optional("name"): TEXT}),
        vol.Optional("entity"): _keyed(_keyed(_ENTITY), slug=True),
        vol.Optional("exceptions"): _keyed({vol.Optional("message"): TEXT}, slug=True),
        vol.Optional("issues"): {
            str: vol.All(
                cv.has_at_least_one_key("description", "fix_flow"),
                vol.Schema(
                    {
                        vol.Required("title"): TEXT,
                        vol.Exclusive("description", "fixable"): TEXT,
                        vol.Exclusive("fix_flow", "fixable"): _flow_schema(),
                    }
                ),
            )
        },
        vol.Optional("services"): _keyed(
            {
                vol.Required("name"): TEXT,
                vol.Required("description"): TEXT,
                vol.Optional("fields"): _FIELDS,
                vol.Optional("sections"): _keyed(
                    {vol.Required("name"): str, vol.Optional("description"): TEXT}
                ),
            }
        ),
        vol.Optional("selector"): _keyed(
            {
                vol.Optional("options"): _keyed(TEXT),
                vol.Optional("choices"): _keyed(TEXT),
                vol.Optional("unit_of_measurement"): _keyed(TEXT),
                vol.Optional("fields"): _FIELDS,
            }
        ),
        # Our integration uses none of these; they are allowed as hassfest allows them.
        vol.Optional("application_credentials"): {vol.Optional("description"): TEXT},
        vol.Optional("common"): {str: TEXT},
        vol.Optional("conditions"): dict,
        vol.Optional("config_panel"): dict,
        vol.Optional("conversation"): dict,
        vol.Optional("device_automation"): dict,
        vol.Optional("entity_component"): dict,
        vol.Optional("preview_features"): dict,
        vol.Optional("system_health"): dict,
        vol.Optional("triggers"): dict,
    }
)


def _references(value: Any, where: str = "") -> list[str]:
    """Return the [%key:...%] references in the texts, which custom integrations show raw."""
    if isinstance(value, dict):
        return [
            ref
            for key, item in value.items()
            for ref in _references(item, f"{where}.{key}")
        ]
    if isinstance(value, str) and "[%key:" in value:
        return [f"{where.lstrip('.')}: a [%key:...%] reference"]
    return []


def check_translations(path: Path) -> list[str]:
    """Return translations/en.json's errors (translations.py, plus the core rules)."""
    errors = []
    if (path / ".translations").is_dir() and not (path / "translations").is_dir():
        errors.append("the translations folder is named .translations")
    if (path / "strings.json").exists():
        errors.append(
            "strings.json: a custom integration's texts are translations/en.json"
        )
    try:
        strings = _json(path, "translations/en.json")
    except ValueError as err:
        return [*errors, f"en.json is not JSON: {err}"]
    errors += _schema_errors(TRANSLATIONS_SCHEMA, strings, "en.json")
    errors += _references(strings)
    return errors


# icons.json: icons.py


def _icon(value: Any) -> str:
    """Accept a Material Design icon."""
    text = cv.string_with_no_html(value)
    if not text.startswith("mdi:"):
        raise vol.Invalid(f"{text!r} is not an mdi: icon")
    return text


def _range_key(value: Any) -> str:
    """Accept a numeric range key."""
    try:
        float(value)
    except (TypeError, ValueError) as err:
        raise vol.Invalid(f"range key {value!r} is not a number") from err
    return str(value)


def _distinct_states(sections: dict[str, Any]) -> dict[str, Any]:
    """Refuse a state icon equal to its default, and unsorted ranges."""
    for key, section in sections.items():
        default = section.get("default")
        for state, icon in section.get("state", {}).items():
            if icon == default:
                raise vol.Invalid(f"{key}.{state}: the same icon as the default")
        values = [float(value) for value in section.get("range", {})]
        if values != sorted(values):
            raise vol.Invalid(f"{key}: ranges not in ascending order")
    return sections


_ICON_STATES = _keyed(_icon)
_ICON_RANGES = vol.Schema({_range_key: _icon})
_ENTITY_ICONS = _keyed(
    {
        vol.Optional("default"): _icon,
        vol.Optional("state"): _ICON_STATES,
        vol.Optional("range"): _ICON_RANGES,
        vol.Optional("state_attributes"): vol.All(
            _keyed(
                {
                    vol.Optional("default"): _icon,
                    vol.Optional("state"): _ICON_STATES,
                    vol.Optional("range"): _ICON_RANGES,
                }
            ),
            _distinct_states,
        ),
    }
)
_FLOW_ICONS = {"step": {str: {"sections": {str: _icon}}}}
ICONS_SCHEMA = vol.Schema(
    {
        vol.Optional("config"): _FLOW_ICONS,
        vol.Optional("options"): _FLOW_ICONS,
        vol.Optional("issues"): {str: {"fix_flow": _FLOW_ICONS}},
        vol.Optional("entity"): _keyed(
            vol.All(_ENTITY_ICONS, _distinct_states), slug=True
        ),
        vol.Optional("services"): _keyed(
            vol.All(
                convert_shorthand_service_icon,
                {
                    vol.Optional("service"): _icon,
                    vol.Optional("sections"): _keyed(_icon),
                },
            )
        ),
    }
)


def check_icons(path: Path) -> list[str]:
    """Return icons.json's errors (icons.py, plus every action has an icon: core rule)."""
    try:
        icons = _json(path, "icons.json")
    except ValueError as err:
        return [f"icons.json is not JSON: {err}"]
    errors = _schema_errors(ICONS_SCHEMA, icons, "icons.json")
    services = load_yaml_dict(str(path / "services.yaml"))
    for name in services:
        icon = icons.get("services", {}).get(name)
        if not (isinstance(icon, str) or (icon or {}).get("service")):
            errors.append(f"action {name} has no icon")
    return errors


# Entity translation keys: every one exists in en.json and icons.json


def check_entity_translation_keys(path: Path) -> list[str]:
    """Return entity translation keys missing from icons.json, or from en.json.

    An entity named after its device (_attr_name = None) needs no name in en.json.
    """
    strings = _json(path, "translations/en.json").get("entity", {})
    icons = _json(path, "icons.json").get("entity", {})
    errors = []
    for platform in Platform:
        file = path / f"{platform.value}.py"
        if not file.is_file():
            continue
        for cls in ast.parse(file.read_text(encoding="utf-8")).body:
            if not isinstance(cls, ast.ClassDef):
                continue
            attrs = {
                node.targets[0].id: node.value
                for node in cls.body
                if isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Name)
            }
            key = attrs.get("_attr_translation_key")
            if not isinstance(key, ast.Constant):
                continue
            named_by_device = ast.unparse(attrs.get("_attr_name", ast.Pass())) == "None"
            if key.value not in strings.get(platform.value, {}) and not named_by_device:
                errors.append(f"entity.{platform.value}.{key.value} is not in en.json")
            if key.value not in icons.get(platform.value, {}):
                errors.append(
                    f"entity.{platform.value}.{key.value} is not in icons.json"
                )
    return errors


# Imports of other integrations: dependencies.py


class _Imports(ast.NodeVisitor):
    """Collect the integrations a module imports (not under TYPE_CHECKING)."""

    def __init__(self) -> None:
        """Start with none."""
        self.domains: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        """Skip `if TYPE_CHECKING:` blocks."""
        if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        """Collect `import homeassistant.components.x`."""
        for alias in node.names:
            if alias.name.startswith("homeassistant.components."):
                self.domains.add(alias.name.split(".")[2])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        """Collect `from homeassistant.components(.x) import ...`."""
        module = node.module or ""
        if module == "homeassistant.components.http.auth" and [
            alias.name for alias in node.names
        ] == ["async_sign_path"]:
            return
        if module.startswith("homeassistant.components."):
            self.domains.add(module.split(".")[2])
        elif module == "homeassistant.components":
            self.domains.update(alias.name for alias in node.names)


def check_dependencies(path: Path) -> list[str]:
    """Return the integrations imported without being allowed to."""
    manifest = _json(path, "manifest.json")
    allowed = {platform.value for platform in Platform} | INTERNAL_COMPONENTS
    allowed |= set(manifest.get("dependencies", [])) | set(
        manifest.get("after_dependencies", [])
    )
    for domain, keys in DISCOVERY_INTEGRATIONS.items():
        if any(key in manifest for key in keys):
            allowed.add(domain)
    errors = []
    for file in sorted(path.rglob("*.py")):
        collector = _Imports()
        collector.visit(ast.parse(file.read_text(encoding="utf-8")))
        for domain in sorted(collector.domains - allowed - {path.name}):
            # A platform this integration provides for that integration is fine.
            if (path / f"{domain}.py").is_file() or (path / domain).is_dir():
                continue
            errors.append(f"{file.name} uses {domain}, not in dependencies")
    return errors


# conditions.yaml and triggers.yaml: conditions.py, triggers.py


def _platform_yaml(path: Path, kind: str, platform: str, pattern: str) -> list[str]:
    """Return errors of a condition or trigger platform and its YAML."""
    yaml_file = path / f"{kind}.yaml"
    uses = any(
        re.search(pattern, file.read_text(encoding="utf-8"))
        for file in path.rglob(f"{platform}.py")
    )
    if not yaml_file.is_file():
        return (
            [f"{platform}.py registers {kind} but there is no {kind}.yaml"]
            if uses
            else []
        )
    try:
        data = load_yaml_dict(str(yaml_file))
    except HomeAssistantError as err:
        return [f"{kind}.yaml does not load: {err}"]
    field = {
        vol.Optional("example"): _exists,
        vol.Optional("default"): _exists,
        vol.Optional("required"): bool,
        vol.Optional("selector"): selector.validate_selector,
        vol.Optional("context"): {str: str},
    }
    schema = vol.Schema(
        {
            vol.All(str, _slug): vol.Any(
                None,
                {
                    vol.Optional("target"): selector.TargetSelector.CONFIG_SCHEMA,
                    vol.Optional("fields"): {str: field},
                },
            )
        }
    )
    return _schema_errors(schema, data, f"{kind}.yaml")


def check_conditions(path: Path) -> list[str]:
    """Return the errors of conditions.yaml (conditions.py)."""
    return _platform_yaml(path, "conditions", "condition", r"async_get_conditions")


def check_triggers(path: Path) -> list[str]:
    """Return the errors of triggers.yaml (triggers.py)."""
    return _platform_yaml(
        path, "triggers", "trigger", r"async_attach_trigger|async_get_triggers"
    )


CHECKS: dict[str, Check] = {
    "manifest": check_manifest,
    "json": check_json,
    "config_flow": check_config_flow_discovery,
    "config_schema": check_config_schema,
    "services": check_services,
    "translations": check_translations,
    "icons": check_icons,
    "entity_translation_keys": check_entity_translation_keys,
    "dependencies": check_dependencies,
    "conditions": check_conditions,
    "triggers": check_triggers,
}


@pytest.mark.parametrize("name", CHECKS)
def test_hassfest_rule(name: str) -> None:
    """Our integration passes each of hassfest's checks for custom integrations."""
    assert CHECKS[name](INTEGRATION) == []


# Each check can fail: a copy of the integration is broken one way at a time, and the
# check it concerns must report it. The repository is never touched.


def _edit(file: str, old: str, new: str) -> Callable[[Path], None]:
    """Return a breaker that replaces text in a file of the copy."""

    def breaker(path: Path) -> None:
        text = (path / file).read_text(encoding="utf-8")
        assert old in text, (file, old)
        (path / file).write_text(text.replace(old, new, 1), encoding="utf-8")

    return breaker


def _edit_json(file: str, edit: Callable[[Any], Any]) -> Callable[[Path], None]:
    """Return a breaker that edits a JSON file of the copy."""

    def breaker(path: Path) -> None:
        data = json.loads((path / file).read_text(encoding="utf-8"))
        edit(data)
        (path / file).write_text(json.dumps(data), encoding="utf-8")

    return breaker


def _write(file: str, text: str) -> Callable[[Path], None]:
    """Return a breaker that writes a file into the copy."""
    return lambda path: (path / file).write_text(text, encoding="utf-8")


def _manifest(edit: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    """Return a breaker of manifest.json."""
    return _edit_json("manifest.json", edit)


def _strings(edit: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    """Return a breaker of en.json."""
    return _edit_json("translations/en.json", edit)


def _set_text(keys: tuple[str, ...], value: str) -> Callable[[dict[str, Any]], None]:
    """Return an edit setting one text of en.json."""

    def edit(data: dict[str, Any]) -> None:
        for key in keys[:-1]:
            data = data[key]
        data[keys[-1]] = value

    return edit


USER_URL = ("config", "step", "user", "data_description", "url")
BREAKS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "no version": ("manifest", _manifest(lambda m: m.pop("version"))),
    "bad version": ("manifest", _manifest(lambda m: m.update(version="one.two"))),
    "unsorted keys": (
        "manifest",
        _manifest(lambda m: m.update(domain=m.pop("domain"))),
    ),
    "unknown key": (
        "manifest",
        _manifest(lambda m: m.update(homepage="https://x.example")),
    ),
    "owner not a handle": (
        "manifest",
        _manifest(lambda m: m.update(codeowners=["someone"])),
    ),
    "http documentation": (
        "manifest",
        _manifest(lambda m: m.update(documentation="http://example.com/docs")),
    ),
    "core documentation": (
        "manifest",
        _manifest(lambda m: m.update(documentation=f"{CORE_DOCS}/{DOMAIN}")),
    ),
    "no issue tracker": ("manifest", _manifest(lambda m: m.pop("issue_tracker"))),
    "no iot class": ("manifest", _manifest(lambda m: m.pop("iot_class"))),
    "no integration type": ("manifest", _manifest(lambda m: m.pop("integration_type"))),
    "bad quality scale": (
        "manifest",
        _manifest(lambda m: m.update(quality_scale="diamond")),
    ),
    "wrong domain": ("manifest", _manifest(lambda m: m.update(domain="spectronics"))),
    "requirement with a space": (
        "manifest",
        _manifest(lambda m: m.update(requirements=["aiohttp >= 3"])),
    ),
    "no config_flow.py": ("manifest", lambda path: (path / "config_flow.py").unlink()),
    "invalid JSON": ("json", _write("brand/extra.json", "{not json")),
    "discovery without unique ID": (
        "config_flow",
        _write(
            "config_flow.py",
            "class Flow:\n    async def async_step_zeroconf(self): ...\n",
        ),
    ),
    "no CONFIG_SCHEMA": (
        "config_schema",
        _edit(
            "__init__.py",
            "CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)",
            "",
        ),
    ),
    "a YAML config schema": (
        "config_schema",
        _edit(
            "__init__.py",
            "cv.config_entry_only_config_schema(DOMAIN)",
            "cv.empty_config_schema(DOMAIN)",
        ),
    ),
    "unknown selector": (
        "services",
        _edit("services.yaml", "        boolean:", "        bool:"),
    ),
    "unknown field key": (
        "services",
        _edit("services.yaml", "      required: true", "      mandatory: true"),
    ),
    "registered action missing": (
        "services",
        _edit("services.yaml", "call_until_answered:", "call_until_nobody:"),
    ),
    "action text in services.yaml": (
        "services",
        _edit("services.yaml", "place_call:\n", "place_call:\n  name: Place call\n"),
    ),
    "field description missing": (
        "services",
        _strings(
            lambda d: d["services"]["place_call"]["fields"]["wait"].pop("description")
        ),
    ),
    "no services.yaml": ("services", lambda path: (path / "services.yaml").unlink()),
    "HTML": ("translations", _strings(_set_text(USER_URL, "The <b>address</b>."))),
    "a URL": (
        "translations",
        _strings(_set_text(USER_URL, "See https://voip.example.com/api.")),
    ),
    "outer space": ("translations", _strings(_set_text(USER_URL, "The address. "))),
    "quoted placeholder": (
        "translations",
        _strings(
            _set_text(
                ("exceptions", "entry_not_loaded", "message"), "'{title}' not loaded"
            )
        ),
    ),
    "bad placeholder": (
        "translations",
        _strings(
            _set_text(
                ("exceptions", "entry_not_loaded", "message"), "{the title} not loaded"
            )
        ),
    ),
    "placeholder in a state": (
        "translations",
        _strings(
            _set_text(
                (
                    "entity",
                    "event",
                    "last_call",
                    "state_attributes",
                    "event_type",
                    "state",
                    "failed",
                ),
                "Failed {reason}",
            )
        ),
    ),
    "reference": (
        "translations",
        _strings(_set_text(USER_URL, "[%key:common::config_flow::data::url%]")),
    ),
    "unknown top-level key": (
        "translations",
        _strings(lambda d: d.update(extras={"a": "b"})),
    ),
    "data_description without data": (
        "translations",
        _strings(lambda d: d["config"]["step"]["user"]["data"].pop("url")),
    ),
    "issue without title": (
        "translations",
        _strings(lambda d: d["issues"]["insecure_url"].pop("title")),
    ),
    "subentry without entry_type": (
        "translations",
        _strings(lambda d: d["config_subentries"]["contact"].pop("entry_type")),
    ),
    "bad translation key": (
        "translations",
        _strings(lambda d: d["entity"]["button"].update({"Call_": {"name": "x"}})),
    ),
    "strings.json": ("translations", _write("strings.json", "{}")),
    "icon not mdi": (
        "icons",
        _edit_json(
            "icons.json",
            lambda d: d["entity"]["button"]["call"].update(default="phone"),
        ),
    ),
    "state icon as default": (
        "icons",
        _edit_json(
            "icons.json",
            lambda d: d["entity"]["event"]["last_call"].update(
                state={"x": "mdi:phone-log"}
            ),
        ),
    ),
    "action without icon": (
        "icons",
        _edit_json("icons.json", lambda d: d["services"].pop("place_call")),
    ),
    "entity component icons": (
        "icons",
        _edit_json(
            "icons.json",
            lambda d: d.update(entity_component={"_": {"default": "mdi:x"}}),
        ),
    ),
    "entity key not translated": (
        "entity_translation_keys",
        _strings(lambda d: d["entity"]["button"].pop("call")),
    ),
    "entity key without icon": (
        "entity_translation_keys",
        _edit_json("icons.json", lambda d: d["entity"]["notify"].pop("contact")),
    ),
    "undeclared dependency": (
        "dependencies",
        _write("helpers.py", "from homeassistant.components.zha import DOMAIN\n"),
    ),
    "condition platform without YAML": (
        "conditions",
        _write("condition.py", "async def async_get_conditions(hass): ...\n"),
    ),
    "trigger platform without YAML": (
        "triggers",
        _write("trigger.py", "async def async_attach_trigger(hass): ...\n"),
    ),
    "invalid triggers.yaml": (
        "triggers",
        _write("triggers.yaml", "Bad-Name:\n  fields: 3\n"),
    ),
}


@pytest.mark.parametrize("case", BREAKS)
def test_check_fails_on_a_broken_copy(tmp_path: Path, case: str) -> None:
    """Each check reports the fault it exists for, on a broken copy.

    Compared with the copy before the break, so that a check the repository already
    fails (reported by test_hassfest_rule) still shows that it sees the new fault.
    """
    name, breaker = BREAKS[case]
    copy = tmp_path / DOMAIN
    shutil.copytree(INTEGRATION, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = CHECKS[name](copy)
    breaker(copy)
    new = [error for error in CHECKS[name](copy) if error not in before]
    assert new, f"the {name} check missed: {case}"
