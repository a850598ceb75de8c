"""The deployment files, read as text and YAML (no Docker engine needed): what `docker build` sends, the pinned
base image, the health check's port, the compose file's environment and restart policy, the constraints file."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continuation line"
    out = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def instructions(keyword: str) -> list[str]:
    return [args for kw, args in dockerfile_instructions() if kw == keyword]


def compose_service(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = data["services"][name]
    assert isinstance(service, dict)
    return service


def dockerignored(path: str) -> bool:
    """Whether `docker build` leaves `path` out of the context, with .dockerignore's rules: patterns in order, the
    last match wins, `!` lets back in, a pattern matching a folder matches all under it, `**` any folders."""

    def regex(pattern: str) -> re.Pattern[str]:
        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            elif pattern[i] == "[" and "]" in pattern[i:]:
                end = pattern.index("]", i)
                out, i = out + pattern[i : end + 1], end + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return re.compile(out + "(?:/.*)?")

    ignored = False
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line.removeprefix("!").strip().strip("/")
        if regex(pattern).fullmatch(path):
            ignored = not negate
    return ignored


class TestDockerignore:
    @pytest.mark.parametrize(
        "path", [".venv", ".venv/bin/python", ".git", ".git/HEAD", ".env", "tests/conftest.py", "docs/x.md"]
    )
    def test_context_leaves_out(self, path: str) -> None:
        """.venv (over a GB), .git, local secrets, tests and docs never go to the Docker daemon."""
        assert dockerignored(path), f"{path} would be sent to `docker build`"

    @pytest.mark.parametrize(
        "path", ["bot/__pycache__/app.cpython-311.pyc", "handoff.egg-info/PKG-INFO", "bot/app.pyc"]
    )
    def test_context_leaves_out_build_leftovers(self, path: str) -> None:
        assert dockerignored(path)

    def test_context_holds_what_the_dockerfile_copies(self) -> None:
        """Every source the Dockerfile COPYs from the context is in the context (or the build would fail)."""
        copied: list[str] = []
        for args in instructions("COPY"):
            words = shlex.split(args)
            if any(w.startswith("--from") for w in words):
                continue
            copied += [w for w in words[:-1] if not w.startswith("--")]
        assert copied, "the Dockerfile copies nothing from the context"
        for source in copied:
            path = ROOT / source
            assert path.exists(), f"COPY {source}: no such file in the checkout"
            files = (
                [path] if path.is_file() else [p for p in path.rglob("*.py") if "__pycache__" not in p.parts]
            )
            for file in files:
                rel = file.relative_to(ROOT).as_posix()
                assert not dockerignored(rel), f"COPY {source}: {rel} is excluded by .dockerignore"


class TestDockerfile:
    def test_base_images_are_pinned_to_an_exact_version(self) -> None:
        """FROM names major.minor.patch (no `latest`, no floating `3.11`), so a rebuild gets the same Python."""
        froms = instructions("FROM")
        assert froms
        for args in froms:
            image = args.split()[0]
            tag = image.partition(":")[2]
            assert tag, f"FROM {image}: no tag means latest"
            assert "latest" not in tag, f"FROM {image}"
            assert re.match(r"\d+\.\d+\.\d+(?:-|$|@)", tag), f"FROM {image}: tag without a patch version"

    def test_install_uses_the_constraints_file(self) -> None:
        """Every pip command in the image installs at the versions pinned in constraints.txt."""
        pips = [args for args in instructions("RUN") if re.search(r"\bpip (install|wheel)\b", args)]
        assert pips
        for args in pips:
            assert re.search(r"(-c|--constraint)[ =]\S*constraints\.txt", args), f"RUN {args}"
        assert any("constraints.txt" in args for args in instructions("COPY"))

    def test_healthcheck_asks_the_port_from_the_environment(self) -> None:
        """The health check and the server both use $PORT, so changing PORT does not make the container unhealthy."""
        (healthcheck,) = instructions("HEALTHCHECK")
        assert "PORT" in healthcheck
        assert "/healthz" in healthcheck
        assert "3000/healthz" not in healthcheck
        envs = " ".join(instructions("ENV"))
        assert re.search(r"\bPORT=\d+", envs), "the image sets a default PORT"
        (cmd,) = instructions("CMD")
        assert "${PORT}" in cmd or "$PORT" in cmd, "the server listens on $PORT"
        argv = json.loads(
            cmd
        )  # exec form, valid JSON: `exec` in the shell makes handoff PID 1 (gets SIGTERM)
        assert argv[:2] == ["sh", "-c"]
        assert argv[2].startswith("exec handoff serve")

    def test_runs_as_non_root(self) -> None:
        users = instructions("USER")
        assert users
        assert users[-1] not in ("root", "0")


def example_config_variables() -> set[str]:
    """The `${VAR}` references in the example config's values (as the loader expands them; comments do not count)."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            found.update(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", value))

    walk(yaml.safe_load((ROOT / "bot/defaults/handoff.example.yaml").read_text()))
    return found


def env_example() -> tuple[set[str], set[str]]:
    """(variables set in .env.example, variables only mentioned in a `# NAME=` comment)."""
    assigned: set[str] = set()
    commented: set[str] = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        if m := re.match(r"([A-Z_][A-Z0-9_]*)=", line):
            assigned.add(m.group(1))
        elif m := re.match(r"#\s*([A-Z_][A-Z0-9_]*)=", line):
            commented.add(m.group(1))
    return assigned, commented


class TestCompose:
    def test_env_file_exists_with_its_template(self) -> None:
        """The bot's environment comes from .env, whose template .env.example is tracked; .env itself is not."""
        env_files = compose_service("handoff").get("env_file")
        names = [env_files] if isinstance(env_files, str) else list(env_files or [])
        paths = [n if isinstance(n, str) else n["path"] for n in names]
        assert ".env" in paths
        assert (ROOT / ".env.example").is_file()
        assert ".env" in (ROOT / ".gitignore").read_text().splitlines()

    def test_env_example_lists_every_variable_of_the_example_config(self) -> None:
        """Each `${VAR}` of the example config must be set, or loading it fails: .env.example sets every one."""
        variables = example_config_variables()
        assert variables, "the example config references no ${VAR}"
        assigned, _ = env_example()
        missing = sorted(variables - assigned)
        assert not missing, f".env.example does not set {missing}"

    def test_example_config_loads_with_the_env_example(self) -> None:
        """The example config, with exactly the variables .env.example sets (empty as in the template), loads."""
        from bot.config import load_config

        assigned, _ = env_example()
        config = load_config(ROOT / "bot/defaults/handoff.example.yaml", env=dict.fromkeys(assigned, ""))
        assert config.alerts.sources

    def test_env_example_lists_every_setting(self) -> None:
        """Required settings are set in .env.example; the optional ones are there as comments, or set by compose."""
        assigned, commented = env_example()
        environment = compose_service("handoff").get("environment") or {}
        assert isinstance(environment, dict)
        for name, field in Settings.model_fields.items():
            var = name.upper()
            if field.is_required():
                assert var in assigned, f"required setting {var} is not set in .env.example"
            else:
                assert var in assigned | commented | set(environment), f"setting {var} is not in .env.example"
        assert "HANDOFF_CONFIG" in environment, "compose points HANDOFF_CONFIG at the mounted config"
        assert str(environment["HANDOFF_CONFIG"]) in " ".join(map(str, compose_service("handoff")["volumes"]))

    def test_published_port_follows_port(self) -> None:
        """PORT moves the container's listener (Dockerfile CMD) and the published port together."""
        (mapping,) = compose_service("handoff")["ports"]
        assert str(mapping).endswith(":${PORT:-3000}")
        assigned, commented = env_example()
        assert "PORT" in assigned | commented

    def test_restart_policy(self) -> None:
        """The bot and Redis come back after a crash or a host reboot."""
        for name in ("handoff", "redis"):
            assert compose_service(name).get("restart") in ("always", "unless-stopped", "on-failure"), name

    def test_redis_keeps_its_data(self) -> None:
        redis = compose_service("redis")
        assert "--appendonly" in redis["command"]
        image = str(redis["image"])
        assert re.match(r"redis:\d+\.\d+\.\d+", image), f"{image} is not pinned to an exact version"


class TestConstraints:
    def test_every_line_pins_one_version(self) -> None:
        lines = [
            line
            for line in (ROOT / "constraints.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        assert lines
        for line in lines:
            assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[^\]]+\])?==[^\s=]+", line), line

    def test_covers_every_declared_dependency(self) -> None:
        """scripts/lock installed every runtime and extra dependency: each one is pinned."""
        import tomllib

        def norm(name: str) -> str:
            return re.sub(r"[-_.]+", "-", name).lower()

        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        declared = list(project["dependencies"])
        for extra in project["optional-dependencies"].values():
            declared += extra
        pinned = {
            norm(line.split("==")[0].split("[")[0])
            for line in (ROOT / "constraints.txt").read_text().splitlines()
            if "==" in line and not line.startswith("#")
        }
        names = {norm(re.split(r"[\[<>=!~; ]", spec, maxsplit=1)[0]) for spec in declared}
        assert not names - pinned, f"not in constraints.txt (run scripts/lock): {sorted(names - pinned)}"

    def test_setup_installs_from_it(self) -> None:
        setup = (ROOT / "scripts/setup").read_text()
        assert "-c constraints.txt" in setup
