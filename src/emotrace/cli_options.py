"""Command-line options generated from the dataclasses that own them (AnalyzerConfig, ServerSettings, BatchOptions):
a field whose metadata has a `help` is an option, so its flag, type, choices, default and help are stated once,
beside the field, and the CLI never types a default or a choice again.

Field metadata: `help` (required), `flag` (default `--field-name`; a tuple for several names, a bare name for a
positional), `choices`, `nargs`. A bool field is a flag that sets the opposite of its default; a list field is a
repeatable option. Light: argparse and dataclasses only, so `emotrace --help` stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any

from emotrace.errors import EmotraceError


def option_fields(cls: type) -> list[dataclasses.Field[Any]]:
    """The fields of dataclass `cls` that are command-line options (those with a `help`)."""
    return [f for f in dataclasses.fields(cls) if "help" in f.metadata]


def _names(f: dataclasses.Field[Any]) -> tuple[str, ...]:
    flag = f.metadata.get("flag", "--" + f.name.replace("_", "-"))
    return (flag,) if isinstance(flag, str) else tuple(flag)


def option_flags(cls: type) -> dict[str, str]:
    """Field name -> the option a user types for it (its long name), for messages."""
    return {f.name: _names(f)[-1] for f in option_fields(cls)}


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def _value_type(hint: Any) -> Any:
    """What argparse converts one typed value to: `int | None` -> int, `list[str]` -> str."""
    args = [a for a in typing.get_args(hint) if a is not type(None) and a is not Ellipsis]
    return _value_type(args[0]) if args else hint


def add_options(parser: Any, cls: type, layered: bool = False) -> None:
    """One argparse option per option field of `cls` on `parser` (a parser or an argument group), each option's
    value stored under the field's name. `layered`: an option not typed is None, so a value from a --config file
    stands (the command merges them); its default is still the field's, shown in the help."""
    hints = typing.get_type_hints(cls)
    for f in option_fields(cls):
        names, default, hint = _names(f), _default(f), hints[f.name]
        text = f.metadata["help"].replace("%", "%%")
        kw: dict[str, Any] = {} if not names[0].startswith("-") else {"dest": f.name}
        if hint is bool:
            kw.update(action="store_const", const=not default, default=None if layered else default)
        else:
            named = "dest" in kw and "choices" not in f.metadata  # choices show as {a,b,c}
            metavar = names[-1].lstrip("-").replace("-", "_").upper() if named else None
            kw.update(type=_value_type(hint), choices=f.metadata.get("choices"), metavar=metavar)
            if "nargs" in f.metadata:
                kw["nargs"] = f.metadata["nargs"]
            elif typing.get_origin(hint) is list:
                kw["action"] = "append"
            if default is dataclasses.MISSING:
                kw["required"] = True if "dest" in kw else None
            else:
                if default not in (None, [], ()):
                    text += f" (default: {_shown(default)})"
                appended = kw.get("action") == "append"  # argparse would append to the default list itself
                kw["default"] = None if layered or appended else (
                    _shown(default) if isinstance(default, tuple) else default)
        parser.add_argument(*names, help=text, **{k: v for k, v in kw.items() if v is not None})


def option_values(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """The option fields of `cls` as parsed into `args`, by field name."""
    return {f.name: getattr(args, f.name) for f in option_fields(cls)}


def option_message(exc: EmotraceError, given: dict[str, Any], flags: dict[str, str] | None = None) -> EmotraceError:
    """'min_score must be ...' reads '--min-score must be ...' when the user typed that option (`given`: the parsed
    values by field name; `flags`: field -> option where it is not `--field-name`)."""
    msg = str(exc)
    field = msg.split(" ", 1)[0]
    if field in given and given[field] is not None:
        flag = (flags or {}).get(field, "--" + field.replace("_", "-"))
        return EmotraceError(flag + msg[len(field):])
    return exc
