"""What a release needs: versions in step, hacs.json, the licence.

The Marketplace (Home Assistant 2026.11+, homeassistant/components/marketplace) and HACS
(hacs/integration 2.x) offer a repository's GitHub releases as its versions, tag name as
the version, and otherwise install the default branch by commit. Both read hacs.json
from the root of the version they install; the Marketplace refuses a manifest.json
without a loadable `version` or with another `domain`, and HACS's validation needs a
licence GitHub recognises. So:

- the newest CHANGELOG.md entry, manifest.json's `version` and pyproject.toml's `version`
  are one version, and a version tag on the checked-out commit is that version too;
- hacs.json has only keys the Marketplace and HACS read (marketplace/utils/validate.py,
  REPOSITORY_MANIFEST_VALUES: content_in_root, filename, hacs, hide_default_branch,
  homeassistant, name, persistent_directory, zip_release), with a `name`, and its
  `homeassistant` minimum is the one README.md states and not above the oldest Home
  Assistant the suite runs on;
- README.md's Supported line names the releases the browser tests run on: the oldest
  and the newest Home Assistant requirements_dev.txt pins ("in a browser on X and Y");
- manifest.json has what both read (marketplace/utils/validate.py,
  INTEGRATION_MANIFEST_JSON_SCHEMA: codeowners, documentation, domain, issue_tracker,
  name, version), the version in a format the loader accepts;
- LICENSE is the MIT licence and pyproject.toml declares it.

Every check returns its errors; the tests at the end feed each one broken input.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
import json
from pathlib import Path
import re
import shutil
import subprocess
import tomllib
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from awesomeversion.exceptions import AwesomeVersionException
import pytest

from .common import INTEGRATION

ROOT = INTEGRATION.parent.parent

# marketplace/utils/validate.py, REPOSITORY_MANIFEST_VALUES: what the Marketplace reads
# from hacs.json. HACS 2.x reads these too (its HacsManifest), and `country` and
# `render_readme` besides, which the Marketplace accepts and ignores; HACS 2.x stores
# `render_readme` and ignores it as well (the README is always shown).
HACS_JSON_KEYS = frozenset(
    {
        "content_in_root",
        "filename",
        "hacs",
        "hide_default_branch",
        "homeassistant",
        "name",
        "persistent_directory",
        "zip_release",
    }
)
# marketplace/utils/validate.py, INTEGRATION_MANIFEST_JSON_SCHEMA (HACS's is the same).
MARKETPLACE_MANIFEST_KEYS = (
    "codeowners",
    "documentation",
    "domain",
    "issue_tracker",
    "name",
    "version",
)
# marketplace/repositories/integration.py, LOADABLE_VERSION_STRATEGIES: the version
# formats the loader accepts for a custom integration.
LOADABLE_VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]

ENTRY_HEADING = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\S+))?\s*$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
MIT_GRANT = (
    "Permission is hereby granted, free of charge, to any person obtaining a copy"
)
MIT_WARRANTY = 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND'
SUPPORTED_LINE = re.compile(r"^Supported: Home Assistant (\S+) and newer", re.MULTILINE)
TESTED_HA = re.compile(r"pytest-homeassistant-custom-component==(\S+);")
# The Home Assistant each pinned test plugin brings (DESIGN.md section 4).
PLUGIN_HOME_ASSISTANT = {
    "0.13.236": "2025.4.4",
    "0.13.316": "2026.2.3",
    "0.13.375": "2026.10.4",
}


# requirements_dev.txt: the Home Assistant of the development instance, per interpreter.
DEV_HOME_ASSISTANT = re.compile(r"^homeassistant==([^;\s]+)", re.MULTILINE)
IN_A_BROWSER = re.compile(r"in a browser on (\S+) and ([^\s)]+)\)")


def changelog_versions(text: str) -> tuple[list[str], list[str]]:
    """Return the released versions, newest first, and the format errors."""
    errors: list[str] = []
    versions: list[str] = []
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    if not headings:
        return [], ["CHANGELOG.md has no '## [version] - date' entry"]
    for heading in headings:
        if not (match := ENTRY_HEADING.match(heading)):
            errors.append(f"not an entry heading: {heading!r}")
            continue
        version, day = match["version"], match["date"]
        if version == "Unreleased":
            if versions or day:
                errors.append("[Unreleased] belongs on top, without a date")
            continue
        if not SEMVER.match(version):
            errors.append(f"{version!r} is not MAJOR.MINOR.PATCH")
            continue
        try:
            date.fromisoformat(day or "")
        except ValueError:
            errors.append(f"[{version}] has no YYYY-MM-DD date")
        versions.append(version)
    if not versions:
        errors.append("CHANGELOG.md has no released version")
    as_tuples = [tuple(int(part) for part in v.split(".")) for v in versions]
    if as_tuples != sorted(set(as_tuples), reverse=True):
        errors.append(f"versions not newest first, or repeated: {versions}")
    return versions, errors


def version_errors(
    changelog: str, manifest: Mapping[str, Any], pyproject: Mapping[str, Any]
) -> list[str]:
    """Check the newest changelog entry, the manifest and pyproject agree."""
    versions, errors = changelog_versions(changelog)
    if not versions:
        return errors
    newest = versions[0]
    if manifest.get("version") != newest:
        errors.append(
            f"manifest.json version {manifest.get('version')!r} is not the newest "
            f"CHANGELOG.md entry {newest!r}"
        )
    if pyproject.get("project", {}).get("version") != newest:
        errors.append(
            f"pyproject.toml version {pyproject.get('project', {}).get('version')!r}"
            f" is not the newest CHANGELOG.md entry {newest!r}"
        )
    return errors


VERSION_TAG = re.compile(r"v?\d+(\.\d+)*\S*")
MANIFEST_PATH = f"custom_components/{INTEGRATION.name}/manifest.json"


def tag_errors(tags: list[str], version: str) -> list[str]:
    """Check that every version-like tag on a commit is the manifest's version."""
    return [
        f"tag {tag!r} is not the manifest's version {version!r}"
        for tag in tags
        if VERSION_TAG.fullmatch(tag) and tag != version
    ]


def repository_tag_errors(repo: Path) -> list[str]:
    """Check every version tag of a git repository against the manifest it tags."""
    git = shutil.which("git")
    assert git is not None, "git is needed to check the release tags"

    def run(*args: str) -> str:
        return subprocess.run(
            [git, *args], cwd=repo, capture_output=True, text=True, check=True
        ).stdout

    errors: list[str] = []
    for tag in run("tag", "--list").split():
        if VERSION_TAG.fullmatch(tag):
            manifest = json.loads(run("show", f"{tag}:{MANIFEST_PATH}"))
            errors += tag_errors([tag], manifest["version"])
    return errors


def hacs_json_errors(
    hacs: Mapping[str, Any], readme: str, requirements: str
) -> list[str]:
    """Check hacs.json's keys and its minimum Home Assistant version."""
    errors = [
        f"hacs.json key {key!r} is read by neither the Marketplace nor HACS"
        for key in sorted(set(hacs) - HACS_JSON_KEYS)
    ]
    if not isinstance(hacs.get("name"), str) or not hacs["name"]:
        errors.append("hacs.json needs a name")
    minimum = hacs.get("homeassistant")
    if not isinstance(minimum, str) or not AwesomeVersion(minimum).valid:
        return [*errors, "hacs.json needs the minimum Home Assistant version"]
    if (stated := SUPPORTED_LINE.search(readme)) is None:
        errors.append(
            "README.md does not state 'Supported: Home Assistant X and newer'"
        )
    elif stated[1] != minimum:
        errors.append(f"README.md states {stated[1]}, hacs.json {minimum}")
    pins = TESTED_HA.findall(requirements)
    if unknown := [pin for pin in pins if pin not in PLUGIN_HOME_ASSISTANT]:
        errors.append(f"add the Home Assistant of test plugin {unknown} here")
    tested = [
        AwesomeVersion(PLUGIN_HOME_ASSISTANT[p]) for p in pins if p not in unknown
    ]
    if not pins:
        errors.append("requirements_test.txt pins no Home Assistant")
    elif tested and AwesomeVersion(minimum) > min(tested):
        errors.append(f"hacs.json requires {minimum}, above the oldest tested")
    return errors


def browser_release_errors(readme: str, requirements_dev: str) -> list[str]:
    """Check README.md names the oldest and newest Home Assistant of the browser tests."""
    pins = sorted(DEV_HOME_ASSISTANT.findall(requirements_dev), key=AwesomeVersion)
    if not pins:
        return ["requirements_dev.txt pins no Home Assistant"]
    supported = next(
        (line for line in readme.splitlines() if line.startswith("Supported:")), ""
    )
    if (stated := IN_A_BROWSER.search(supported)) is None:
        return ["README.md's Supported line does not say 'in a browser on X and Y)'"]
    if stated.groups() == (pins[0], pins[-1]):
        return []
    said = f"README.md says in a browser on {stated[1]} and {stated[2]}"
    return [f"{said}; the browser tests run on {pins[0]} and {pins[-1]}"]


def manifest_errors(manifest: Mapping[str, Any], folder: str) -> list[str]:
    """Check the manifest keys the Marketplace and HACS require."""
    errors = [
        f"manifest.json lacks {key!r}"
        for key in MARKETPLACE_MANIFEST_KEYS
        if not manifest.get(key)
    ]
    if manifest.get("domain") != folder:
        errors.append(f"domain {manifest.get('domain')!r} is not the folder {folder!r}")
    if not isinstance(manifest.get("codeowners"), list):
        errors.append("codeowners is not a list")
    errors += [
        f"{key} is not an https:// URL"
        for key in ("documentation", "issue_tracker")
        if not str(manifest.get(key, "")).startswith("https://")
    ]
    try:
        AwesomeVersion(
            manifest.get("version"), ensure_strategy=LOADABLE_VERSION_STRATEGIES
        )
    except AwesomeVersionException:
        errors.append(f"version {manifest.get('version')!r} would not load")
    return errors


def licence_errors(licence: str | None, pyproject: Mapping[str, Any]) -> list[str]:
    """Check LICENSE is the MIT licence and pyproject.toml declares it."""
    errors: list[str] = []
    if licence is None:
        errors.append("no LICENSE file: HACS refuses a repository without a licence")
    elif not (
        licence.startswith("MIT License")
        and MIT_GRANT in licence
        and MIT_WARRANTY in licence
    ):
        errors.append("LICENSE is not the MIT licence's text")
    project = pyproject.get("project", {})
    if project.get("license") != "MIT":
        errors.append(f"pyproject.toml license is {project.get('license')!r}")
    if "LICENSE" not in project.get("license-files", []):
        errors.append("pyproject.toml license-files does not list LICENSE")
    return errors


def _read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def _manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(
        (INTEGRATION / "manifest.json").read_text(encoding="utf-8")
    )
    return manifest


def _pyproject() -> dict[str, Any]:
    return tomllib.loads(_read("pyproject.toml"))


# The repository as it is.


def test_versions_in_step() -> None:
    """The newest CHANGELOG.md entry is manifest.json's and pyproject.toml's version."""
    assert version_errors(_read("CHANGELOG.md"), _manifest(), _pyproject()) == []


def test_every_version_tag_names_its_manifests_version() -> None:
    """Each version tag of this repository is the version in the manifest it tags."""
    assert repository_tag_errors(ROOT) == []


def test_hacs_json() -> None:
    """hacs.json keeps only keys that are read, with the stated minimum version."""
    hacs = json.loads(_read("hacs.json"))
    assert (
        hacs_json_errors(hacs, _read("README.md"), _read("requirements_test.txt")) == []
    )


def test_readme_names_the_browser_tests_releases() -> None:
    """The Supported line names the oldest and newest release of the browser tests."""
    assert (
        browser_release_errors(_read("README.md"), _read("requirements_dev.txt")) == []
    )


def test_manifest_for_the_marketplace_and_hacs() -> None:
    """manifest.json has what the Marketplace and HACS require, loadably versioned."""
    assert manifest_errors(_manifest(), INTEGRATION.name) == []


def test_licence() -> None:
    """LICENSE is the MIT licence, and pyproject.toml says so."""
    licence = _read("LICENSE") if (ROOT / "LICENSE").is_file() else None
    assert licence_errors(licence, _pyproject()) == []


# Each check, given broken input.

CHANGELOG = """# Changelog

## [Unreleased]

## [0.2.0] - 2027-01-10

## [0.1.0] - 2026-12-05
"""
MANIFEST = {
    "domain": "spectronics_voip",
    "name": "Spectronics VoIP",
    "codeowners": ["@someone"],
    "documentation": "https://example.com/docs",
    "issue_tracker": "https://example.com/issues",
    "version": "0.2.0",
}
PYPROJECT = {"project": {"version": "0.2.0", "license": "MIT"}}


def test_version_check_accepts_a_consistent_release() -> None:
    """The fixtures the failing cases break are themselves consistent."""
    assert version_errors(CHANGELOG, MANIFEST, PYPROJECT) == []


@pytest.mark.parametrize(
    ("changelog", "manifest_version", "pyproject_version", "expected"),
    [
        pytest.param(
            CHANGELOG, "0.1.0", "0.2.0", "manifest.json version", id="manifest_behind"
        ),
        pytest.param(
            CHANGELOG, "0.2.0", "0.1.0", "pyproject.toml version", id="pyproject_behind"
        ),
        pytest.param(
            CHANGELOG.replace("## [0.2.0] - 2027-01-10\n\n", ""),
            "0.2.0",
            "0.2.0",
            "not the newest",
            id="no_changelog_entry",
        ),
        pytest.param(
            CHANGELOG.replace("[0.2.0] - 2027-01-10", "[0.2.0]"),
            "0.2.0",
            "0.2.0",
            "no YYYY-MM-DD date",
            id="entry_without_date",
        ),
        pytest.param(
            CHANGELOG.replace("2027-01-10", "10/01/2027"),
            "0.2.0",
            "0.2.0",
            "no YYYY-MM-DD date",
            id="entry_with_other_date",
        ),
        pytest.param(
            CHANGELOG.replace("[0.2.0]", "[0.2]"),
            "0.2",
            "0.2",
            "is not MAJOR.MINOR.PATCH",
            id="not_semver",
        ),
        pytest.param(
            CHANGELOG.replace("[0.1.0]", "[0.3.0]"),
            "0.2.0",
            "0.2.0",
            "not newest first",
            id="out_of_order",
        ),
        pytest.param(
            CHANGELOG.replace("[0.1.0]", "[0.2.0]"),
            "0.2.0",
            "0.2.0",
            "repeated",
            id="repeated",
        ),
        pytest.param(
            "# Changelog\n\n## [Unreleased]\n",
            "0.2.0",
            "0.2.0",
            "no released version",
            id="only_unreleased",
        ),
        pytest.param(
            "# Changelog\n", "0.2.0", "0.2.0", "has no '## [version]", id="empty"
        ),
        pytest.param(
            CHANGELOG.replace("## [0.2.0]", "## 0.2.0"),
            "0.2.0",
            "0.2.0",
            "not an entry heading",
            id="heading_without_brackets",
        ),
        pytest.param(
            CHANGELOG.replace("## [Unreleased]\n\n", "") + "\n## [Unreleased]\n",
            "0.2.0",
            "0.2.0",
            "[Unreleased] belongs on top",
            id="unreleased_at_the_bottom",
        ),
    ],
)
def test_version_check_fails(
    changelog: str, manifest_version: str, pyproject_version: str, expected: str
) -> None:
    """Each way of getting out of step is reported."""
    errors = version_errors(
        changelog,
        {**MANIFEST, "version": manifest_version},
        {"project": {"version": pyproject_version}},
    )

    assert any(expected in error for error in errors), errors


@pytest.mark.parametrize(
    ("tags", "failing"),
    [
        ([], []),
        (["0.2.0"], []),
        (["0.2.0", "latest"], []),
        (["0.1.0"], ["0.1.0"]),
        (["v0.2.0"], ["v0.2.0"]),
        (["0.2.0", "0.2.1"], ["0.2.1"]),
    ],
)
def test_tag_check(tags: list[str], failing: list[str]) -> None:
    """A version tag other than the manifest's version is reported; other tags not."""
    errors = tag_errors(tags, "0.2.0")

    assert [error.split("'")[1] for error in errors] == failing


def test_repository_tag_check_finds_a_wrong_tag(tmp_path: Path) -> None:
    """In a repository of two releases, the tag that misnames its manifest is found."""

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )

    manifest = tmp_path / MANIFEST_PATH
    manifest.parent.mkdir(parents=True)
    git("init", "-q")
    for version, tag in (("0.1.0", "0.1.0"), ("0.2.0", "0.3.0")):
        manifest.write_text(json.dumps({"version": version}))
        git("add", ".")
        git("commit", "-q", "-m", version)
        git("tag", tag)
    git("tag", "demo")  # not a version: ignored

    assert repository_tag_errors(tmp_path) == [
        "tag '0.3.0' is not the manifest's version '0.2.0'"
    ]


README = "Intro.\n\nSupported: Home Assistant 2025.4.0 and newer (tested on ...).\n"
REQUIREMENTS = (
    'pytest-homeassistant-custom-component==0.13.236; python_full_version < "3.13.2"\n'
    'pytest-homeassistant-custom-component==0.13.375; python_version >= "3.14"\n'
)
HACS = {"name": "Spectronics VoIP", "homeassistant": "2025.4.0"}


@pytest.mark.parametrize(
    ("hacs", "readme", "requirements", "expected"),
    [
        (HACS, README, REQUIREMENTS, None),
        (
            {**HACS, "render_readme": True},
            README,
            REQUIREMENTS,
            "'render_readme' is read by neither",
        ),
        ({**HACS, "country": "GB"}, README, REQUIREMENTS, "'country' is read by"),
        ({"homeassistant": "2025.4.0"}, README, REQUIREMENTS, "needs a name"),
        ({"name": "Spectronics VoIP"}, README, REQUIREMENTS, "needs the minimum"),
        ({**HACS, "homeassistant": "soon"}, README, REQUIREMENTS, "needs the minimum"),
        (
            HACS,
            README.replace("2025.4.0", "2025.5.0"),
            REQUIREMENTS,
            "README.md states",
        ),
        (HACS, "No supported line.\n", REQUIREMENTS, "does not state"),
        ({**HACS, "homeassistant": "2025.5.0"}, README, REQUIREMENTS, "README.md"),
        (
            {**HACS, "homeassistant": "2025.5.0"},
            README.replace("2025.4.0", "2025.5.0"),
            REQUIREMENTS,
            "above the oldest tested",
        ),
        (HACS, README, "ruff==0.17.6\n", "pins no Home Assistant"),
        (
            HACS,
            README,
            'pytest-homeassistant-custom-component==0.99.0; python_version >= "4"\n',
            "add the Home Assistant of test plugin",
        ),
    ],
)
def test_hacs_json_check(
    hacs: dict[str, Any], readme: str, requirements: str, expected: str | None
) -> None:
    """Unread keys, a missing name or minimum, or a minimum out of step: reported."""
    errors = hacs_json_errors(hacs, readme, requirements)

    if expected is None:
        assert errors == []
    else:
        assert any(expected in error for error in errors), errors


DEV_PINS = (
    'homeassistant==2026.11.0; python_full_version >= "3.14.2"\n'
    'homeassistant==2025.4.4; python_full_version < "3.13.2"\n'
    'pycares<5; python_full_version < "3.13.2"\n'
)
BROWSER_README = (
    "Supported: Home Assistant 2025.4.0 and newer (tested on 2025.4.4 and 2026.10.4;"
    " in a browser on 2025.4.4 and 2026.11.0).\n"
)


@pytest.mark.parametrize(
    ("readme", "requirements_dev", "expected"),
    [
        (BROWSER_README, DEV_PINS, None),
        (BROWSER_README, "pycares<5\n", "pins no Home Assistant"),
        (README, DEV_PINS, "does not say"),
        (
            BROWSER_README,
            DEV_PINS.replace("2026.11.0", "2026.12.0"),
            "the browser tests run on 2025.4.4 and 2026.12.0",
        ),
    ],
)
def test_browser_release_check(
    readme: str, requirements_dev: str, expected: str | None
) -> None:
    """A README that does not name the browser tests' releases is reported."""
    errors = browser_release_errors(readme, requirements_dev)

    if expected is None:
        assert errors == []
    else:
        assert any(expected in error for error in errors), errors


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, None),
        ({"version": None}, "lacks 'version'"),
        ({"version": "one"}, "would not load"),
        ({"codeowners": []}, "lacks 'codeowners'"),
        ({"codeowners": "@someone"}, "not a list"),
        ({"documentation": None}, "lacks 'documentation'"),
        ({"issue_tracker": "http://example.com/issues"}, "issue_tracker is not"),
        ({"domain": "spectronics"}, "is not the folder"),
        ({"name": ""}, "lacks 'name'"),
    ],
)
def test_manifest_check(changes: dict[str, Any], expected: str | None) -> None:
    """What the Marketplace would refuse is reported."""
    manifest = {
        key: value
        for key, value in {**MANIFEST, **changes}.items()
        if value is not None
    }

    errors = manifest_errors(manifest, "spectronics_voip")

    if expected is None:
        assert errors == []
    else:
        assert any(expected in error for error in errors), errors


MIT = _read("LICENSE") if (ROOT / "LICENSE").is_file() else ""


@pytest.mark.parametrize(
    ("licence", "pyproject", "expected"),
    [
        (MIT, {"project": {"license": "MIT", "license-files": ["LICENSE"]}}, None),
        (
            None,
            {"project": {"license": "MIT", "license-files": ["LICENSE"]}},
            "no LICENSE",
        ),
        (
            "Apache License\nVersion 2.0\n",
            {"project": {"license": "MIT", "license-files": ["LICENSE"]}},
            "not the MIT licence",
        ),
        (MIT, {"project": {"license-files": ["LICENSE"]}}, "license is None"),
        (
            MIT,
            {"project": {"license": "Apache-2.0", "license-files": ["LICENSE"]}},
            "license is 'Apache-2.0'",
        ),
        (MIT, {"project": {"license": "MIT"}}, "does not list LICENSE"),
    ],
)
def test_licence_check(
    licence: str | None, pyproject: dict[str, Any], expected: str | None
) -> None:
    """A missing or other licence, or pyproject.toml not saying MIT: reported."""
    errors = licence_errors(licence, pyproject)

    if expected is None:
        assert errors == []
    else:
        assert any(expected in error for error in errors), errors
