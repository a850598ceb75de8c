"""Loading playbooks from the built-ins and configured folders; choosing those an opening incident starts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path

from bot.domain.models import Asset, Severity
from bot.yamlfile import Problem, YamlFileError, load_model, parse_yaml
from playbooks.errors import PlaybookNotFound
from playbooks.schema import Playbook, Triggers

BUILTIN_DIR = Path(__file__).parent / "builtin"
_SUFFIXES = (".yaml", ".yml")


def playbook_files(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """The YAML files named, and those in the folders named (sorted); a missing path is a problem."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in _SUFFIXES and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), None, "", "no such file or folder"))
    return files, problems


def load_playbook(path: Path) -> Playbook:
    """One playbook file; YamlFileError names the file, line and field of each problem."""
    playbook = load_model(path, Playbook)
    playbook._source = path
    return playbook


def load_playbooks(folders: Iterable[Path] = (), *, builtin: bool = True) -> list[Playbook]:
    """The built-ins and every playbook in `folders` (files or folders); all problems in one YamlFileError."""
    files, problems = playbook_files([*([BUILTIN_DIR] if builtin else []), *folders])
    loaded: dict[str, Playbook] = {}
    for path in files:
        try:
            playbook = load_playbook(path)
        except YamlFileError as exc:
            problems += exc.problems
            continue
        first = loaded.get(playbook.name)
        if first is not None:
            problems.append(
                Problem(
                    str(path),
                    _name_line(path),
                    "name",
                    f"duplicate playbook name {playbook.name!r}, already defined in {first.source}",
                )
            )
            continue
        loaded[playbook.name] = playbook
    if problems:
        raise YamlFileError(problems)
    return list(loaded.values())


def _name_line(path: Path) -> int | None:
    _, lines = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    return lines.get(("name",))


def find(playbooks: Iterable[Playbook], name: str) -> Playbook:
    by_name = {p.name: p for p in playbooks}
    if name not in by_name:
        raise PlaybookNotFound(
            f"no playbook named {name!r}; there are: {', '.join(sorted(by_name)) or 'none'}"
        )
    return by_name[name]


def triggered(
    triggers: Triggers, assets: Sequence[Asset], labels: Mapping[str, str], severity: Severity | None
) -> bool:
    """Whether an incident opening with these assets, alert labels and severity sets the playbook off."""
    if triggers.manual:
        return False
    if triggers.severities and severity not in triggers.severities:
        return False
    for key, pattern in triggers.labels.items():
        if key not in labels or not fnmatchcase(labels[key], pattern):
            return False
    if triggers.asset_kinds or triggers.asset_names:
        # Kind and name criteria must hold for one and the same asset.
        return any(
            (not triggers.asset_kinds or a.kind in triggers.asset_kinds)
            and (not triggers.asset_names or any(fnmatchcase(a.name, g) for g in triggers.asset_names))
            for a in assets
        )
    return True


def matching(
    playbooks: Iterable[Playbook],
    incident_assets: Sequence[Asset],
    alert_labels: Mapping[str, str],
    severity: Severity | None,
) -> list[Playbook]:
    """The playbooks to run as an incident opens, in load order; manual ones never match."""
    return [p for p in playbooks if triggered(p.triggers, incident_assets, alert_labels, severity)]
