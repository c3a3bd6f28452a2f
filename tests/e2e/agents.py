"""How to start each real agent CLI offline against the fake LLM server.

``prepare(name, llm_url, tmp)`` lays out a throw-away HOME and a git work folder under
``tmp``, writes the agent's configuration so that no first-run dialog blocks it (onboarding,
API-key approval, folder trust, update checks, model migration), and returns the command,
environment and working folder to run it with. The CLIs themselves are installed into
``.agents/<name>`` by ``scripts/install-agents.sh``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
AGENTS_DIR = Path(os.environ.get("AGENTAPI_AGENTS_DIR") or REPO_ROOT / ".agents")

AGENT_NAMES = ("claude", "aider", "codex", "gemini", "opencode", "copilot")

# The key only has to look plausible; the fake server ignores it.
FAKE_API_KEY = "sk-fake-0123456789abcdefghijklmnopqrstuvwxyz"
MODEL = "fake-model"
CLAUDE_MODEL = "claude-sonnet-4-5"
CLAUDE_SMALL_MODEL = "claude-haiku-4-5"
GEMINI_MODEL = "gemini-2.5-flash"

# Pinned by scripts/install-agents.sh; listed here so a test can tell a stale install.
VERSIONS = {
    "claude": "2.1.197",
    "aider": "0.86.2",
    "codex": "0.169.0",
    "gemini": "0.61.0",
    "opencode": "1.18.33",
    "copilot": "1.0.102",
}

PINNED_VERSIONS = dict(VERSIONS)

_BINARIES = {
    "claude": "claude/node_modules/.bin/claude",
    "aider": "aider/bin/aider",
    "codex": "codex/node_modules/.bin/codex",
    "gemini": "gemini/node_modules/.bin/gemini",
    "opencode": "opencode/node_modules/.bin/opencode",
    "copilot": "copilot/node_modules/.bin/copilot",
}

# Seconds from launch to an input prompt on this kind of machine, with room to spare.
# OpenCode installs its provider package with npm on a first start in a fresh HOME.
STARTUP_TIMEOUT_S = {
    "claude": 20.0,
    "aider": 30.0,
    "codex": 20.0,
    "gemini": 30.0,
    "opencode": 90.0,
    # A first start unpacks its 235 MB bundle into the shared package cache.
    "copilot": 60.0,
}

# Variables worth keeping from the caller's environment; everything else (API keys,
# TMUX, XDG folders, agent settings of the person running the tests) stays out.
_PASSED_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)


class AgentNotInstalled(RuntimeError):
    pass


@dataclass
class AgentLaunch:
    """Everything needed to run one agent: ``subprocess``-style argv, env and cwd."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    home: Path
    # The daemon's ``--type`` for this agent.
    agent_type: str
    startup_timeout_s: float
    config_files: list[Path] = field(default_factory=list)

    def daemon_argv(self, python: str, port: int, *flags: str) -> list[str]:
        """``python -m agentapi server`` running this agent on ``port``."""
        return [
            python,
            "-m",
            "agentapi",
            "server",
            "--port",
            str(port),
            "--type",
            self.agent_type,
            *flags,
            "--",
            *self.argv,
        ]


# Agents run at another version than the pinned one (``use_version``), by name.
_OTHER_VERSIONS: dict[str, str] = {}


def use_version(name: str, version: str) -> None:
    """Run ``name`` at ``version``, as installed by ``scripts/install-agents.sh
    name@version`` into ``.agents/name@version``, instead of the pinned version."""
    if name not in _BINARIES:
        raise ValueError(f"unknown agent {name!r} (known: {', '.join(AGENT_NAMES)})")
    if version == PINNED_VERSIONS[name]:
        _OTHER_VERSIONS.pop(name, None)
    else:
        _OTHER_VERSIONS[name] = version
    VERSIONS[name] = version


def binary(name: str) -> Path:
    """Where the agent's executable lives under ``.agents/``."""
    try:
        relative = _BINARIES[name]
    except KeyError:
        raise ValueError(f"unknown agent {name!r} (known: {', '.join(AGENT_NAMES)})") from None
    version = _OTHER_VERSIONS.get(name)
    if version is not None:
        folder, rest = relative.split("/", 1)
        relative = f"{folder}@{version}/{rest}"
    return AGENTS_DIR / relative


def installed(name: str) -> bool:
    return os.access(binary(name), os.X_OK)


def installed_agents() -> list[str]:
    return [name for name in AGENT_NAMES if installed(name)]


def fake_mcp_argv(log: Path | None = None) -> list[str]:
    """The command of the fake ``coder`` MCP server (tests/fakes/fake_mcp.py)."""
    script = REPO_ROOT / "tests" / "fakes" / "fake_mcp.py"
    argv = [sys.executable, str(script)]
    if log is not None:
        argv += ["--log", str(log)]
    return argv


def prepare(
    name: str,
    llm_url: str,
    tmp: str | Path,
    *,
    mcp_server: Sequence[str] | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> AgentLaunch:
    """Lay out ``tmp/home`` and ``tmp/work`` for ``name`` and say how to start it.

    ``llm_url`` is the fake server's root (``http://127.0.0.1:PORT``). ``mcp_server`` is
    the argv of a stdio MCP server to register as ``coder``, with its tools allowed
    without asking (every agent but Aider, which has no MCP support).
    """
    if name not in _BINARIES:
        raise ValueError(f"unknown agent {name!r} (known: {', '.join(AGENT_NAMES)})")
    if mcp_server and name == "aider":
        raise ValueError("aider cannot use MCP servers")
    if not installed(name):
        raise AgentNotInstalled(f"{name} is not installed: run scripts/install-agents.sh {name}")
    root = Path(tmp).resolve()
    home = root / "home"
    work = root / "work"
    home.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    env = _base_env(home)
    _make_git_work_folder(home, work, env)
    llm_url = llm_url.rstrip("/")
    launch = _PREPARERS[name](llm_url, home, work, env, mcp_server)
    if extra_env:
        launch.env.update(extra_env)
    return launch


# -- shared set-up ------------------------------------------------------------------------


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _PASSED_ENV}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env["HOME"] = str(home)
    env["USER"] = env["LOGNAME"] = os.environ.get("USER", "tester")
    env["SHELL"] = "/bin/bash"
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    env["XDG_DATA_HOME"] = str(home / ".local" / "share")
    env["XDG_STATE_HOME"] = str(home / ".local" / "state")
    # Agents must reach the fake server directly even where a proxy is configured.
    for key in ("NO_PROXY", "no_proxy"):
        hosts = [h for h in env.get(key, "").split(",") if h]
        env[key] = ",".join([*hosts, "127.0.0.1", "localhost"])
    return env


def _make_git_work_folder(home: Path, work: Path, env: dict[str, str]) -> None:
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Agent Tester\n\temail = tester@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
        "[advice]\n\tdetachedHead = false\n",
        encoding="utf-8",
    )
    if (work / ".git").exists():
        return
    (work / "README.md").write_text("# Scratch project\n\nA folder for agent tests.\n")
    for args in (["init", "-q"], ["add", "README.md"], ["commit", "-q", "-m", "Start"]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)


def _write_json(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


# -- per agent ----------------------------------------------------------------------------


def _claude(
    url: str, home: Path, work: Path, env: dict[str, str], mcp: Sequence[str] | None
) -> AgentLaunch:
    state = {
        "hasCompletedOnboarding": True,
        "lastOnboardingVersion": VERSIONS["claude"],
        "lastReleaseNotesSeen": VERSIONS["claude"],
        "numStartups": 1,
        "theme": "dark",
        "autoUpdates": False,
        "customApiKeyResponses": {"approved": [FAKE_API_KEY[-20:]], "rejected": []},
        "projects": {
            str(work): {
                "hasTrustDialogAccepted": True,
                "hasCompletedProjectOnboarding": True,
                "allowedTools": [],
            }
        },
    }
    files = [_write_json(home / ".claude.json", state)]
    argv = [str(binary("claude"))]
    if mcp:
        config = {"mcpServers": {"coder": {"type": "stdio", "command": mcp[0], "args": [*mcp[1:]]}}}
        files.append(_write_json(home / "mcp.json", config))
        argv += ["--mcp-config", str(files[-1]), "--allowedTools", "mcp__coder"]
    env.update(
        ANTHROPIC_BASE_URL=url,
        ANTHROPIC_API_KEY=FAKE_API_KEY,
        ANTHROPIC_MODEL=CLAUDE_MODEL,
        ANTHROPIC_SMALL_FAST_MODEL=CLAUDE_SMALL_MODEL,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
        DISABLE_TELEMETRY="1",
        DISABLE_ERROR_REPORTING="1",
    )
    return _launch("claude", argv, env, work, home, files)


def _aider(
    url: str, home: Path, work: Path, env: dict[str, str], mcp: Sequence[str] | None
) -> AgentLaunch:
    model = f"openai/{MODEL}"
    # Known limits and prices keep aider from warning about an unknown model.
    metadata = _write_json(
        home / ".aider.model.metadata.json",
        {
            model: {
                "max_tokens": 8192,
                "max_input_tokens": 128000,
                "max_output_tokens": 8192,
                "input_cost_per_token": 0.0,
                "output_cost_per_token": 0.0,
                "litellm_provider": "openai",
                "mode": "chat",
            }
        },
    )
    settings = home / ".aider.model.settings.yml"
    settings.write_text(
        # With "whole", a fenced block without a file name is an edit-format error and aider
        # asks the model again; "diff" leaves replies without edit blocks alone.
        f"- name: {model}\n  edit_format: diff\n  examples_as_sys_msg: true\n",
        encoding="utf-8",
    )
    argv = [
        str(binary("aider")),
        "--model",
        model,
        "--openai-api-base",
        f"{url}/v1",
        "--openai-api-key",
        FAKE_API_KEY,
        "--model-metadata-file",
        str(metadata),
        "--model-settings-file",
        str(settings),
        "--no-check-update",
        "--no-show-model-warnings",
        "--no-analytics",
        "--no-show-release-notes",
        "--yes-always",
        "--no-auto-commits",
        "--no-gitignore",
        "--no-detect-urls",
    ]
    # litellm otherwise fetches its model price list from the internet at import.
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    return _launch("aider", argv, env, work, home, [metadata, settings])


def _toml_string(value: str) -> str:
    return json.dumps(value)


def _codex(
    url: str, home: Path, work: Path, env: dict[str, str], mcp: Sequence[str] | None
) -> AgentLaunch:
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    lines = [
        # A real model name brings up a model-migration dialog that eats the first message.
        f'model = "{MODEL}"',
        'model_provider = "fake"',
        'approval_policy = "never"',
        'sandbox_mode = "danger-full-access"',
        "check_for_update_on_startup = false",
        "",
        "[model_providers.fake]",
        'name = "Fake"',
        f"base_url = {_toml_string(url + '/v1')}",
        'env_key = "FAKE_LLM_API_KEY"',
        'wire_api = "responses"',
        "request_max_retries = 0",
        "stream_max_retries = 0",
        "",
        f"[projects.{_toml_string(str(work))}]",
        'trust_level = "trusted"',
        "",
        # Otherwise it starts detached helpers that outlive the TUI and its process group.
        "[features]",
        "daemon_auto_start = false",
        "",
        "[notice]",
        "hide_full_access_warning = true",
    ]
    if mcp:
        lines += [
            "",
            "[mcp_servers.coder]",
            f"command = {_toml_string(mcp[0])}",
            f"args = [{', '.join(_toml_string(a) for a in mcp[1:])}]",
        ]
    config = codex_home / "config.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env.update(CODEX_HOME=str(codex_home), FAKE_LLM_API_KEY=FAKE_API_KEY)
    argv = [str(binary("codex"))]
    return _launch("codex", argv, env, work, home, [config])


def _gemini(
    url: str, home: Path, work: Path, env: dict[str, str], mcp: Sequence[str] | None
) -> AgentLaunch:
    settings = {
        "security": {
            "auth": {"selectedType": "gemini-api-key"},
            "folderTrust": {"enabled": False},
        },
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "model": {"name": GEMINI_MODEL},
    }
    if mcp:
        # trust: run its tools without a confirmation dialog.
        settings["mcpServers"] = {"coder": {"command": mcp[0], "args": [*mcp[1:]], "trust": True}}
    path = _write_json(home / ".gemini" / "settings.json", settings)
    env.update(
        GEMINI_API_KEY=FAKE_API_KEY,
        GOOGLE_GEMINI_BASE_URL=url,
        GEMINI_CLI_NO_RELAUNCH="true",
        GEMINI_SANDBOX="false",
        NO_BROWSER="1",
        COLORTERM="truecolor",
    )
    argv = [str(binary("gemini"))]
    return _launch("gemini", argv, env, work, home, [path])


def _opencode(
    url: str, home: Path, work: Path, env: dict[str, str], mcp: Sequence[str] | None
) -> AgentLaunch:
    config = {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            "fake": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Fake",
                "options": {"baseURL": f"{url}/v1", "apiKey": FAKE_API_KEY},
                "models": {
                    MODEL: {"name": "Fake Model", "limit": {"context": 128000, "output": 8192}}
                },
            }
        },
        "model": f"fake/{MODEL}",
        "small_model": f"fake/{MODEL}",
        "autoupdate": False,
        "share": "disabled",
    }
    if mcp:
        config["mcp"] = {"coder": {"type": "local", "command": [*mcp], "enabled": True}}
    path = _write_json(home / ".config" / "opencode" / "opencode.json", config)
    env.update(
        OPENCODE_DISABLE_AUTOUPDATE="true",
        OPENCODE_DISABLE_MODELS_FETCH="true",
        OPENCODE_DISABLE_LSP_DOWNLOAD="true",
    )
    argv = [str(binary("opencode"))]
    return _launch("opencode", argv, env, work, home, [path])


# Nothing listens on port 9 (discard) here.
_DEAD_PROXY = "http://127.0.0.1:9"


def _copilot(
    url: str, home: Path, work: Path, env: dict[str, str], mcp: Sequence[str] | None
) -> AgentLaunch:
    copilot_home = home / ".copilot"
    # The folder-trust dialog comes first otherwise (fixture copilot/trust_dialog_v1.0.102).
    config = _write_json(copilot_home / "config.json", {"trustedFolders": [str(work)]})
    files = [config]
    argv = [str(binary("copilot"))]
    if mcp:
        server = {"type": "local", "command": mcp[0], "args": [*mcp[1:]], "tools": ["*"]}
        servers = {"coder": server}
        files.append(_write_json(copilot_home / "mcp-config.json", {"mcpServers": servers}))
        argv += ["--allow-tool", "coder"]
    env.update(
        # BYOK ("copilot help providers"): an OpenAI-compatible endpoint instead of GitHub's
        # model routing, no GitHub login. Offline mode turns off everything else that would
        # go to the network: authentication, telemetry, web tools, GitHub's MCP server and
        # the auto-update check.
        COPILOT_OFFLINE="true",
        COPILOT_PROVIDER_BASE_URL=f"{url}/v1",
        COPILOT_PROVIDER_TYPE="openai",
        COPILOT_PROVIDER_API_KEY=FAKE_API_KEY,
        COPILOT_MODEL=MODEL,
        # Known limits keep it from warning that the model is not in its catalog.
        COPILOT_PROVIDER_MAX_PROMPT_TOKENS="128000",
        COPILOT_PROVIDER_MAX_OUTPUT_TOKENS="8192",
        COPILOT_AUTO_UPDATE="false",
        # The native binary unpacks its JavaScript bundle on the first start; one cache
        # beside the install serves every fresh HOME.
        COPILOT_PKG_CACHE_HOME=str(binary("copilot").parents[2] / "pkg-cache"),
        # Belt and braces: a call that offline mode missed goes to a closed local port
        # instead of the internet (the fake LLM is in NO_PROXY).
        HTTPS_PROXY=_DEAD_PROXY,
        HTTP_PROXY=_DEAD_PROXY,
        https_proxy=_DEAD_PROXY,
        http_proxy=_DEAD_PROXY,
    )
    return _launch("copilot", argv, env, work, home, files)


def _launch(
    name: str, argv: list[str], env: dict[str, str], work: Path, home: Path, files: list[Path]
) -> AgentLaunch:
    return AgentLaunch(name, argv, env, work, home, name, STARTUP_TIMEOUT_S[name], files)


_PREPARERS = {
    "claude": _claude,
    "aider": _aider,
    "codex": _codex,
    "gemini": _gemini,
    "opencode": _opencode,
    "copilot": _copilot,
}
