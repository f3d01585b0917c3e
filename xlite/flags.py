"""tf.flags / tf.app.flags: absl-style command-line flags without the absl dependency.

`DEFINE_string/integer/float/boolean/bool/list/enum(name, default, help)` register flags on
`FLAGS`, which parses `sys.argv` the first time a flag is read (or when `tf.app.run` or
`FLAGS(argv)` parses explicitly). The syntax is absl's: `--name=value`, `--name value`,
`-name=value`, `--flag`/`--noflag` for booleans (which take no separate value),
`--bool=true|false|t|f|1|0`, and `--` ends the flags. Arguments that are not flags
stay in the returned argv in order; so do unknown flags when parsing with
`known_only=True` (as tf.app.run and the lazy parse do), which otherwise raise
`UnrecognizedFlagError`.
"""
from __future__ import annotations

import sys


class Error(Exception):
    """The base of every flags error."""


class UnrecognizedFlagError(Error):
    def __init__(self, flagname: str, flagvalue: str = ""):
        self.flagname, self.flagvalue = flagname, flagvalue
        super().__init__(f"Unknown command line flag '{flagname}'")


class IllegalFlagValueError(Error):
    """A value the flag's parser rejects."""


class DuplicateFlagError(Error):
    """A flag name defined twice on the same FlagValues."""


class UnparsedFlagAccessError(Error):
    pass


class ValidationError(Error):
    """A required flag left unset."""


# parsers ----------------------------------------------------------------------------------
def _parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        if value.lower() in ("true", "t", "1"):
            return True
        if value.lower() in ("false", "f", "0"):
            return False
    raise ValueError(f"Non-boolean argument to boolean flag: {value!r}")


def _parse_int(value) -> int:
    if isinstance(value, bool):
        raise ValueError(f"Expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    base = 10
    if len(text) > 2 and text[0] == "0" and text[1] in "xXoO":
        base = 16 if text[1] in "xX" else 8
    return int(text, base)


def _parse_float(value) -> float:
    if isinstance(value, bool):
        raise ValueError(f"Expected a float, got {value!r}")
    return float(value)


def _parse_list(value) -> list:
    if isinstance(value, str):
        return [s.strip() for s in value.split(",")] if value.strip() else []
    return list(value)


class Flag:
    """One flag: its parser, default and current value."""

    def __init__(self, name: str, default, help_text: str, parse, kind: str, boolean: bool = False,
                 check=None):
        self.name = name
        self.help = help_text or "(no help available)"
        self.kind = kind
        self.boolean = boolean
        self._parse = parse
        self._check = check
        self.present = 0
        self.default = None if default is None else self._convert(default, "default")
        self.value = self.default
        self.using_default_value = True

    def _convert(self, value, what: str):
        try:
            result = self._parse(value)
        except (TypeError, ValueError) as e:
            raise IllegalFlagValueError(f"flag --{self.name}={value}: {e}") from None
        if self._check is not None:
            problem = self._check(result)
            if problem:
                raise IllegalFlagValueError(f"flag --{self.name}={value}: {problem}")
        return result

    def parse(self, text) -> None:
        self.value = self._convert(text, "value")
        self.present += 1
        self.using_default_value = False

    def unparse(self) -> None:
        self.value, self.present, self.using_default_value = self.default, 0, True


class FlagValues:
    """A registry of flags and their values; attribute access reads a flag's value."""

    def __init__(self):
        object.__setattr__(self, "_flags", {})
        object.__setattr__(self, "_parsed", False)
        object.__setattr__(self, "_required", [])

    # definition -------------------------------------------------------------------------
    def _define(self, flag: Flag) -> Flag:
        if flag.name in self._flags:
            raise DuplicateFlagError(f"The flag '{flag.name}' is defined twice.")
        self._flags[flag.name] = flag
        return flag

    def __contains__(self, name) -> bool:
        return name in self._flags

    def __iter__(self):
        return iter(list(self._flags))

    def __len__(self) -> int:
        return len(self._flags)

    def __getitem__(self, name) -> Flag:
        return self._flags[name]

    # values -----------------------------------------------------------------------------
    def __getattr__(self, name):
        flags = self.__dict__["_flags"]
        if name == "__flags":                  # TF <= 1.4 programs print FLAGS.__flags.items()
            if not self.__dict__["_parsed"]:
                self(sys.argv, known_only=True)
            return self.flag_values_dict()
        if name not in flags:
            raise AttributeError(name)
        if not self.__dict__["_parsed"]:
            self(sys.argv, known_only=True)   # parsed lazily, on the first read, as in TF
        return flags[name].value

    def __setattr__(self, name, value) -> None:
        if name not in self._flags:
            raise AttributeError(f"No flag named {name!r}; define it with DEFINE_* first.")
        flag = self._flags[name]
        flag.value = None if value is None else flag._convert(value, "value")
        flag.using_default_value = False

    def __delattr__(self, name) -> None:
        if name not in self._flags:
            raise AttributeError(name)
        del self._flags[name]

    def get_flag_value(self, name, default):
        return getattr(self, name) if name in self._flags else default

    def flag_values_dict(self) -> dict:
        return {name: flag.value for name, flag in self._flags.items()}

    def is_parsed(self) -> bool:
        return self._parsed

    def mark_as_parsed(self) -> None:
        object.__setattr__(self, "_parsed", True)

    def unparse_flags(self) -> None:
        """Every flag back to its default, and the next read parses sys.argv again."""
        for flag in self._flags.values():
            flag.unparse()
        object.__setattr__(self, "_parsed", False)

    # parsing ----------------------------------------------------------------------------
    def __call__(self, argv, known_only: bool = False) -> list:
        """Parses argv[1:]; returns [argv[0]] plus the arguments that were not flags it knows."""
        if isinstance(argv, str):
            raise TypeError("argv should be a tuple/list of strings, not bare string.")
        argv = list(argv)
        if not argv:
            raise ValueError("argv cannot be an empty list, and must contain the program name as "
                             "the first element.")
        unparsed = self._parse_args(argv[1:], known_only)
        self.mark_as_parsed()
        missing = [n for n in self._required if self._flags[n].value is None]
        if missing:
            raise ValidationError(f"Flag --{missing[0]} must have a value other than None.")
        return argv[:1] + unparsed

    def _parse_args(self, args: list, known_only: bool) -> list:
        unparsed, i = [], 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                unparsed.extend(args[i - 1 if known_only else i:])
                break
            if not arg.startswith("-") or arg.strip("-") == "":
                unparsed.append(arg)   # a positional argument (or a lone "-")
                continue
            body = arg[2:] if arg.startswith("--") else arg[1:]
            name, eq, value = body.partition("=")
            value = value if eq else None
            flag = self._flags.get(name)
            if flag is None and name.startswith("no") and len(name) > 2:
                negated = self._flags.get(name[2:])
                if negated is not None and negated.boolean:
                    if value is not None:
                        raise IllegalFlagValueError(f"{arg} does not take an argument")
                    flag, value = negated, "false"
            if flag is None:
                if not known_only:
                    raise UnrecognizedFlagError(name, arg)
                unparsed.append(arg)
                continue
            if value is None:
                if flag.boolean:
                    value = "true"
                elif i < len(args):
                    value, i = args[i], i + 1
                else:
                    raise IllegalFlagValueError(f"Missing value for flag {arg}")
            flag.parse(value)
        return unparsed

    # help -------------------------------------------------------------------------------
    def get_help(self) -> str:
        lines = []
        for name in sorted(self._flags):
            flag = self._flags[name]
            lines.append(f"  --{'[no]' if flag.boolean else ''}{name}: {flag.help}")
            shown = ",".join(flag.default) if isinstance(flag.default, list) else flag.default
            lines.append(f"    (default: {shown!r})" if isinstance(shown, str) else f"    (default: {shown})")
            lines.append(f"    ({flag.kind})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.get_help()


FLAGS = FlagValues()


def _define(flag_values, flag: Flag, required: bool = False) -> Flag:
    flag_values = FLAGS if flag_values is None else flag_values
    flag_values._define(flag)
    if required:
        flag_values._required.append(flag.name)
    return flag


def DEFINE_string(name, default, help, flag_values=None, required=False, **kwargs):  # noqa: A002,N802
    return _define(flag_values, Flag(name, default, help, str, "a string"), required)


def _in_range(lower_bound, upper_bound):
    """A flag value check: None inside [lower_bound, upper_bound] (either may be None), else the message."""
    def check(v):
        if lower_bound is not None and v < lower_bound or upper_bound is not None and v > upper_bound:
            return f"{v} is out of range [{lower_bound}, {upper_bound}]"
        return None
    return check


def DEFINE_integer(name, default, help, lower_bound=None, upper_bound=None,  # noqa: A002,N802
                   flag_values=None, required=False, **kwargs):
    return _define(flag_values, Flag(name, default, help, _parse_int, "an integer",
                                     check=_in_range(lower_bound, upper_bound)), required)


def DEFINE_float(name, default, help, lower_bound=None, upper_bound=None,  # noqa: A002,N802
                 flag_values=None, required=False, **kwargs):
    return _define(flag_values, Flag(name, default, help, _parse_float, "a number",
                                     check=_in_range(lower_bound, upper_bound)), required)


def DEFINE_boolean(name, default, help, flag_values=None, required=False, **kwargs):  # noqa: A002,N802
    return _define(flag_values, Flag(name, default, help, _parse_bool, "a boolean", boolean=True), required)


DEFINE_bool = DEFINE_boolean


def DEFINE_list(name, default, help, flag_values=None, required=False, **kwargs):  # noqa: A002,N802
    return _define(flag_values, Flag(name, default, help, _parse_list, "a comma separated list"), required)


def DEFINE_enum(name, default, enum_values, help, flag_values=None, required=False, **kwargs):  # noqa: A002,N802
    values = list(enum_values)

    def check(v):
        return None if v in values else f"value should be one of <{'|'.join(values)}>"
    return _define(flag_values, Flag(name, default, help, str, f"one of {values}", check=check), required)


def mark_flag_as_required(flag_name: str, flag_values=None) -> None:
    flag_values = FLAGS if flag_values is None else flag_values
    if flag_name not in flag_values:
        raise AttributeError(f"No flag named {flag_name!r}")
    flag_values._required.append(flag_name)


def mark_flags_as_required(flag_names, flag_values=None) -> None:
    for name in flag_names:
        mark_flag_as_required(name, flag_values)
