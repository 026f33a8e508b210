"""The shared AWS files (`~/.aws/config`, `~/.aws/credentials`), read as botocore reads them.

Strategy: both files are read once per resolution (configparser, raw: no
interpolation) into botocore's profile map. In the config file `[default]`
and `[profile NAME]` are profiles (the name split as a shell word, so
`[profile "my app"]` is `my app`; a later section of the same profile wins),
`[sso-session NAME]` and `[services NAME]` are maps of their own, and any
other section (`[NAME]` alone) is no profile. In the credentials file each
section is the profile it names, as written. AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE may hold `~` and `$VARIABLES`, expanded. A profile's settings are both
files' sections merged, the credentials file winning. The active profile is
the one named, else AWS_DEFAULT_PROFILE, else AWS_PROFILE (botocore reads
them in that order), else `default`.
"""

from __future__ import annotations

import configparser
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from wire.endpoints import EndpointConfig

from .http import is_true
from .resolved import CredentialsError

#: The variables that name the active profile, in the order botocore reads them.
PROFILE_VARIABLES = ("AWS_DEFAULT_PROFILE", "AWS_PROFILE")

Sections = dict[str, dict[str, str]]


def named_profile(profile: str | None, env: Mapping[str, str]) -> str | None:
    """The profile `profile` or the environment names (AWS_DEFAULT_PROFILE, then AWS_PROFILE); None for none."""
    return profile or next((env[name] for name in PROFILE_VARIABLES if env.get(name)), None)


def profile_name(profile: str | None, env: Mapping[str, str]) -> str:
    """The active profile: `named_profile`, else `default`."""
    return named_profile(profile, env) or "default"


#: `$NAME` and `${NAME}` in a path, as `os.path.expandvars` reads them.
_VARIABLE = re.compile(r"\$(?:(\w+)|\{([^}]*)\})")


def expanded(path: str, env: Mapping[str, str]) -> Path:
    """`path` with `$NAME`/`${NAME}` taken from `env` (an unknown one stays as written, as `os.path.expandvars`
    leaves it) and `~` expanded: botocore expands the paths its variables name (`AWS_CONFIG_FILE=$HOME/...` from
    an env file or a unit that does not)."""
    return Path(_VARIABLE.sub(lambda found: env.get(found[1] or found[2], found[0]), path)).expanduser()


def _aws_file(env: Mapping[str, str], var: str, default: str) -> Path:
    return expanded(env[var], env) if env.get(var) else _home(env) / ".aws" / default


def _home(env: Mapping[str, str]) -> Path:
    # An injected environment's HOME wins over the process's, so tests stay hermetic.
    return Path(env["HOME"]) if env.get("HOME") else Path.home()


def _read_ini(path: Path) -> Sections:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as err:
        raise CredentialsError(f"{path}: not a valid AWS config file ({err.__class__.__name__})") from None
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _config_maps(sections: Sections) -> dict[str, Sections]:
    """botocore's `build_profile_map`: the config file's sections as "profiles", "sso-session" and "services"."""
    maps: dict[str, Sections] = {"profile": {}, "sso-session": {}, "services": {}}
    for section, values in sections.items():
        if section == "default":
            maps["profile"]["default"] = values
            continue
        kind = next((kind for kind in maps if section.startswith(kind)), None)
        try:
            words = shlex.split(section)
        except ValueError:  # an unbalanced quote: botocore skips the section
            continue
        if kind is not None and len(words) == 2:
            maps[kind][words[1]] = values
    return maps


def nested(value: str, where: str) -> dict[str, str]:
    """An indented block of `key = value` lines (a `[services]` section's `s3 =` block) as a mapping.

    Raises CredentialsError naming `where` for a line without `=`, as botocore refuses the file."""
    pairs = [line.strip().partition("=") for line in value.splitlines() if line.strip()]
    if any(not sep for _, sep, _ in pairs):
        raise CredentialsError(f"{where}: expected `name = value` lines under it")
    return {key.strip(): setting.strip() for key, _, setting in pairs}


@dataclass(frozen=True, slots=True)
class SharedFiles:
    """The two shared files of one resolution, read once: `~/.aws/config` and `~/.aws/credentials`."""

    config_path: Path
    credentials_path: Path
    #: The config file's profiles, `[sso-session]` and `[services]` sections, by name.
    profiles: Sections
    sso_sessions: Sections
    services: Sections
    #: The credentials file's sections, by name (each a profile).
    credentials: Sections
    home: Path

    @classmethod
    def read(cls, env: Mapping[str, str]) -> SharedFiles:
        """Read the files named by AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE (default under ~/.aws).

        Raises CredentialsError for a file that is not INI text."""
        conf, cred = _aws_file(env, "AWS_CONFIG_FILE", "config"), _aws_file(env, "AWS_SHARED_CREDENTIALS_FILE",
                                                                              "credentials")
        maps = _config_maps(_read_ini(conf))
        return cls(conf, cred, maps["profile"], maps["sso-session"], maps["services"], _read_ini(cred), _home(env))

    def profile(self, name: str) -> dict[str, str]:
        """The profile's config section."""
        return self.profiles.get(name, {})

    def shared(self, name: str) -> dict[str, str]:
        """The profile's section of the credentials file."""
        return self.credentials.get(name, {})

    def merged(self, name: str) -> dict[str, str]:
        """Both sections, the credentials file winning, as botocore merges them."""
        return {**self.profile(name), **self.shared(name)}

    def exists(self, name: str) -> bool:
        """Whether either file has the profile (botocore's ProfileNotFound otherwise)."""
        return name in self.profiles or name in self.credentials

    def sso_session(self, name: str) -> dict[str, str] | None:
        """The `[sso-session NAME]` section, or None."""
        return self.sso_sessions.get(name)

    def endpoints(self, name: str) -> EndpointConfig:
        """What profile `name` says of endpoints: `endpoint_url`, `ignore_configured_endpoint_urls` and each
        service's `endpoint_url` in the `[services NAME]` section its `services` names.

        Raises CredentialsError when that section is not in the config file or is not `name = value` lines."""
        section = self.merged(name)
        services: dict[str, str] = {}
        if "services" in section:
            block = self.services.get(section["services"])
            if block is None:  # botocore's InvalidConfigError
                raise CredentialsError(f"profile {name!r}: services = {section['services']} names no "
                                       f"[services {section['services']}] section in {self.config_path}")
            for service, value in block.items():
                url = nested(value, f"[services {section['services']}] {service}").get("endpoint_url")
                if url:
                    services[service] = url
        return EndpointConfig(section.get("endpoint_url") or None, tuple(services.items()),
                              is_true(section.get("ignore_configured_endpoint_urls")))


__all__ = ["PROFILE_VARIABLES", "SharedFiles", "expanded", "named_profile", "nested", "profile_name"]
