"""Cornu's Lua scripts, one file each beside this module, and the calls that run them.

A script (`<name>.lua`) begins with a comment header that says what it does and what
it returns, then names its keys and arguments in order, and the shared functions it uses:

    -- Claims a queued job for one attempt: …
    -- KEYS: job lease running events feed
    -- ARGV: token worker lease_ms now job_id device accelerator price
    -- USES: event

A last name written `...name` takes the rest, as a Lua table (`...records`). Every Redis
key a script touches is one of its KEYS, or a key its caller passed to a shared function
that it names as a parameter: no script builds a key from a string or reads one out of a
record, so the header says all a script may write. (That is what Redis Cluster asks of a
script too; Cornu's keys share no hash tags yet, so a script that touches both a job's keys
and a global set such as `running` would still be refused there, CROSSSLOT.)
(Keys a record names, such as a dropped checkpoint's legacy Redis blob, go on the
`blob_garbage` list and `Blobs.collect` deletes them after the script.) The body uses the
names, never `KEYS[n]` or `ARGV[n]`: the loader binds them (`local job, lease = KEYS[1],
KEYS[2]`). Shared functions live in `lib/<name>.lua`, whose `USES` names the others they
call. Python constants enter as `${NAME}`, from `CONSTANTS` alone.

`Script(client, name)` registers a script with a redis-py client (EVALSHA, EVAL once
after a Redis restart) and runs it with `keys=` and `args=` by name, the `...` tail as a
list; a name missing or not declared is a TypeError. `AsyncScript` is the same on
redis.asyncio.
"""

from __future__ import annotations

import functools
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Any

import redis
import redis.asyncio

from cornu.core.store import keys as redis_keys

# Entries kept of a job's events stream, and of its live feed (events, epochs and
# progress reports, which the SSE stream reads), trimmed approximately (`MAXLEN ~`).
EVENTS_MAXLEN = 10_000
FEED_MAXLEN = 10_000

# Every Python value a script sees other than through KEYS and ARGV, as `${NAME}`.
CONSTANTS: dict[str, object] = {
    "EVENTS_MAXLEN": EVENTS_MAXLEN,
    "FEED_MAXLEN": FEED_MAXLEN,
    "LEGACY_BLOB": redis_keys.LEGACY_BLOB,
    "LEGACY_BLOB_LEN": len(redis_keys.LEGACY_BLOB),
}

_HEADER = re.compile(r"^--\s*(KEYS|ARGV|USES):(.*)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FUNCTION = re.compile(r"^local function ([A-Za-z_][A-Za-z0-9_]*)\(", re.MULTILINE)
_LUA_WORDS = frozenset(
    "and break do else elseif end false for function if in local nil not or repeat return "
    "then true until while KEYS ARGV redis cjson cmsgpack bit struct unpack tonumber tostring "
    "type string table math pairs ipairs next select error pcall assert".split()
)


@dataclass(frozen=True)
class Names:
    """A header's names in order, and the name of its `...` tail (None: no tail)."""

    fixed: tuple[str, ...]
    tail: str | None

    @classmethod
    def parse(cls, text: str) -> Names:
        words = text.split()
        tail = None
        if words and words[-1].startswith("..."):
            tail = words.pop()[3:]
        if any(w.startswith("...") for w in words):
            raise ValueError(f"only the last name may be a `...` tail: {text.strip()!r}")
        return cls(tuple(words), tail)

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.fixed, *((self.tail,) if self.tail else ()))

    def bind(self, table: str) -> str:
        """Lua that names the entries of `KEYS` or `ARGV`."""
        lines = []
        if self.fixed:
            refs = ", ".join(f"{table}[{i}]" for i in range(1, len(self.fixed) + 1))
            lines.append(f"local {', '.join(self.fixed)} = {refs}")
        if self.tail:  # a loop, not `{unpack(...)}`: Lua 5.1 unpacks at most ~8000 values
            first = len(self.fixed) + 1
            lines.append(
                f"local {self.tail} = {{}} "
                f"for i = {first}, #{table} do {self.tail}[i - {first - 1}] = {table}[i] end"
            )
        return "\n".join(lines)

    def values(self, script: str, what: str, given: Mapping[str, Any]) -> list[Any]:
        """The values of `given` in the declared order; TypeError unless its names are
        exactly the declared ones."""
        declared = set(self.all)
        if set(given) != declared:
            missing = sorted(declared - set(given))
            extra = sorted(set(given) - declared)
            raise TypeError(
                f"Lua script {script!r} takes {what} {list(self.all)}; "
                f"missing {missing}, not declared {extra}"
            )
        out = [given[name] for name in self.fixed]
        if self.tail:
            rest = given[self.tail]
            if isinstance(rest, str | bytes) or not hasattr(rest, "__iter__"):
                raise TypeError(f"Lua script {script!r}: {what} {self.tail!r} takes a list")
            out.extend(rest)
        return out


@dataclass(frozen=True)
class Lua:
    """One file: its header's declarations and its text (header comments included)."""

    name: str
    keys: Names
    args: Names
    uses: tuple[str, ...]
    body: str

    @property
    def functions(self) -> tuple[str, ...]:
        """The functions a lib file defines (`local function name(`)."""
        return tuple(_FUNCTION.findall(self.body))


def _read(path: str) -> str:
    return resources.files(__name__).joinpath(path).read_text(encoding="utf-8")


def parse(name: str, text: str) -> Lua:
    """A file's header (the comment lines it begins with) and its text."""
    declared: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        found = _HEADER.match(line)
        if found:
            if found[1] in declared:
                raise ValueError(f"{name}.lua: `{found[1]}:` twice in its header")
            declared[found[1]] = found[2]
    lua = Lua(
        name,
        Names.parse(declared.get("KEYS", "")),
        Names.parse(declared.get("ARGV", "")),
        tuple(declared.get("USES", "").split()),
        text,
    )
    names = [*lua.keys.all, *lua.args.all]
    for each in names:
        if not _NAME.match(each) or each in _LUA_WORDS or keyword.iskeyword(each):
            raise ValueError(f"{name}.lua: {each!r} cannot name a key or an argument")
    if len(set(names)) != len(names):
        raise ValueError(f"{name}.lua: a name is declared twice in {names}")
    return lua


@functools.cache
def library(name: str) -> Lua:
    """A shared file, `lib/<name>.lua`."""
    lua = parse(name, _read(f"lib/{name}.lua"))
    if lua.keys.all or lua.args.all:
        raise ValueError(f"lib/{name}.lua: shared functions take keys as parameters")
    return lua


def _closure(uses: tuple[str, ...]) -> list[Lua]:
    """The shared files `uses` names and those they use, each after what it uses."""
    ordered: list[Lua] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise ValueError(f"lib/{name}.lua uses itself: {' → '.join((*path, name))}")
        lua = library(name)
        for used in lua.uses:
            visit(used, (*path, name))
        if lua not in ordered:
            ordered.append(lua)

    for name in uses:
        visit(name, ())
    return ordered


@functools.cache
def load(name: str) -> tuple[Lua, str]:
    """A script's declarations and the source Redis runs: its names bound, the shared
    functions it uses, its body, with the constants in place."""
    lua = parse(name, _read(f"{name}.lua"))
    libs = _closure(lua.uses)
    shadowed = {f for lib in libs for f in lib.functions} & {*lua.keys.all, *lua.args.all}
    if shadowed:
        raise ValueError(f"{name}.lua: {sorted(shadowed)} name a function and a key or argument")
    parts = [lua.keys.bind("KEYS"), lua.args.bind("ARGV"), *(lib.body for lib in libs), lua.body]
    source = "\n".join(part for part in parts if part)
    return lua, Template(source).substitute({k: str(v) for k, v in CONSTANTS.items()})


def scripts() -> list[str]:
    """The names of every script (not the shared files)."""
    root = resources.files(__name__)
    return sorted(p.name.removesuffix(".lua") for p in root.iterdir() if p.name.endswith(".lua"))


def libraries() -> list[str]:
    root = resources.files(__name__).joinpath("lib")
    return sorted(p.name.removesuffix(".lua") for p in root.iterdir() if p.name.endswith(".lua"))


class Script:
    """A script registered with a (sync) redis-py client, called by names."""

    def __init__(self, client: redis.Redis, name: str) -> None:
        self.lua, source = load(name)
        self._script = client.register_script(source)

    def __call__(self, *, keys: Mapping[str, Any], args: Mapping[str, Any] | None = None) -> Any:
        return self._script(
            keys=self.lua.keys.values(self.lua.name, "KEYS", keys),
            args=self.lua.args.values(self.lua.name, "ARGV", args or {}),
        )


class AsyncScript:
    """A script registered with a redis.asyncio client, called (and awaited) by names."""

    def __init__(self, client: redis.asyncio.Redis, name: str) -> None:
        self.lua, source = load(name)
        self._script = client.register_script(source)

    async def __call__(
        self, *, keys: Mapping[str, Any], args: Mapping[str, Any] | None = None
    ) -> Any:
        return await self._script(
            keys=self.lua.keys.values(self.lua.name, "KEYS", keys),
            args=self.lua.args.values(self.lua.name, "ARGV", args or {}),
        )


__all__ = ["CONSTANTS", "EVENTS_MAXLEN", "FEED_MAXLEN", "AsyncScript", "Lua", "Script", "load"]
