"""The Lua scripts in `core/store/lua/`: each declares what it touches, and is called by
those names.

The key check (`test_every_redis_call_names_a_declared_key`) is static and regex-based:
it finds `redis.call('CMD', first` and accepts a first argument that is a declared key
(`job`), an entry of a declared `...` tail (`records[2 * i]`), or, in a shared file, a
parameter of a function it defines (the caller passes a declared key: that call is not
traced). It does not follow a key through a local variable (it refuses one instead), it
checks only the first argument of a command (every argument of DEL), it does not know
which commands take no key beyond `NO_KEY`, and it does not see `redis.pcall` or a call
whose command is not a literal; none of those occur in the scripts.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import redis

from cornu.core.ids import new_id
from cornu.core.store import Store, keys, lua
from cornu.core.store.lua import Lua, Script

ROOT = Path(__file__).resolve().parents[3]
LUA_DIR = ROOT / "core" / "store" / "lua"
NO_KEY = {"TIME"}  # commands that take no key
_CALL = re.compile(r"redis\.call\(\s*'(\w+)'\s*(?:,([^)]*))?")
_KEY_ARG = re.compile(r"^([A-Za-z_]\w*)(\[[^\]]*\])?$")
_PARAMS = re.compile(r"local function \w+\(([^)]*)\)")


def code(lua_file: Lua) -> str:
    """The file's text without its comments (no script has `--` inside a string)."""
    return "\n".join(line.split("--", 1)[0] for line in lua_file.body.splitlines())


SCRIPTS = {name: lua.load(name)[0] for name in lua.scripts()}
LIBRARIES = {name: lua.library(name) for name in lua.libraries()}
EVERY_FILE = [*SCRIPTS.values(), *LIBRARIES.values()]


def test_the_files_are_the_scripts_and_libraries() -> None:
    assert sorted(p.stem for p in LUA_DIR.glob("*.lua")) == sorted(SCRIPTS)
    assert sorted(p.stem for p in (LUA_DIR / "lib").glob("*.lua")) == sorted(LIBRARIES)
    assert len(SCRIPTS) >= 27 and {"event", "charge", "usage", "users"} <= set(LIBRARIES)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_script_says_what_it_does_and_declares_its_keys(name: str) -> None:
    text = SCRIPTS[name].body
    first = text.splitlines()[0]
    assert first.startswith("-- ") and not re.match(r"-- (KEYS|ARGV|USES):", first)
    assert re.search(r"^-- KEYS: \S", text, re.MULTILINE), "every script touches a key"
    assert re.search(r"^-- ARGV:", text, re.MULTILINE)


@pytest.mark.parametrize("lua_file", EVERY_FILE, ids=lambda f: f.name)
def test_a_body_uses_names_never_positions_or_derived_keys(lua_file: Lua) -> None:
    body = code(lua_file)
    for banned in ("KEYS[", "ARGV[", "#KEYS", "#ARGV", "string.gsub", "redis.pcall"):
        assert banned not in body, f"{lua_file.name}.lua: {banned}"
    assert set(re.findall(r"\$\{(\w+)\}", body)) <= set(lua.CONSTANTS)
    assert not re.search(r"(?<!\$)\{[A-Z_]+\}", body), "a constant is `${NAME}`"


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_every_declared_name_is_used(name: str) -> None:
    script = SCRIPTS[name]
    body = code(script)
    for declared in (*script.keys.all, *script.args.all):
        assert re.search(rf"\b{declared}\b", body), f"{name}.lua declares {declared!r}, unused"


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_no_declared_key_is_reassigned(name: str) -> None:
    body = code(SCRIPTS[name])
    for key in SCRIPTS[name].keys.all:
        assert not re.search(rf"(^|[^.\w]){key}\s*=[^=]", body), f"{name}.lua assigns {key!r}"
        assert not re.search(rf"\blocal\s+(\w+\s*,\s*)*{key}\b", body)


@pytest.mark.parametrize("lua_file", EVERY_FILE, ids=lambda f: f.name)
def test_every_shared_function_called_is_one_the_file_uses(lua_file: Lua) -> None:
    assert set(lua_file.uses) <= set(LIBRARIES), f"{lua_file.name}: unknown {lua_file.uses}"
    reachable: set[str] = set(lua_file.functions)
    todo = list(lua_file.uses)
    while todo:
        used = LIBRARIES[todo.pop()]
        reachable |= set(used.functions)
        todo += used.uses
    body = code(lua_file)
    for lib in LIBRARIES.values():
        for function in lib.functions:
            if re.search(rf"(?<![.\w]){function}\(", body):
                assert function in reachable, f"{lua_file.name} calls {function} without USES"


@pytest.mark.parametrize("lua_file", EVERY_FILE, ids=lambda f: f.name)
def test_every_redis_call_names_a_declared_key(lua_file: Lua) -> None:
    body = code(lua_file)
    allowed = set(lua_file.keys.all)
    for params in _PARAMS.findall(body):
        allowed |= {p.strip() for p in params.split(",") if p.strip() not in ("", "...")}
    calls = _CALL.findall(body)
    assert calls or not lua_file.keys.all
    for command, rest in calls:
        if command in NO_KEY:
            continue
        assert rest, f"{lua_file.name}: {command} without a key"
        arguments = [a.strip() for a in rest.split(",")]
        for argument in arguments if command == "DEL" else arguments[:1]:
            found = _KEY_ARG.match(argument)
            assert found and found[1] in allowed, (
                f"{lua_file.name}.lua: {command} on {argument!r}, not a declared key"
            )


def test_the_lua_files_ship_with_the_package() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = data["tool"]["setuptools"]["package-data"]["cornu.core.store.lua"]
    shipped = {p for pattern in patterns for p in LUA_DIR.glob(pattern)}
    assert shipped == set(LUA_DIR.rglob("*.lua"))


def test_a_call_takes_exactly_the_declared_names() -> None:
    script = Script(redis.Redis(), "claim_job")  # registering does not connect
    good_keys = {n: n for n in ("job", "lease", "running", "events", "feed")}
    names = ("token", "worker", "lease_ms", "now", "job_id", "device", "accelerator", "price")
    good_args = {n: n for n in names}
    with pytest.raises(TypeError, match=r"missing \['feed'\]"):
        script(keys={k: v for k, v in good_keys.items() if k != "feed"}, args=good_args)
    with pytest.raises(TypeError, match=r"not declared \['tenant'\]"):
        script(keys=good_keys, args={**good_args, "tenant": "t"})
    with pytest.raises(TypeError, match="ARGV"):
        script(keys=good_keys, args={})
    bound = script.lua.keys.values("claim_job", "KEYS", dict(reversed(good_keys.items())))
    assert bound == ["job", "lease", "running", "events", "feed"]  # the declared order


def test_a_tail_is_a_list_and_binds_as_a_table() -> None:
    script = Script(redis.Redis(), "create_job")  # registering does not connect
    with pytest.raises(TypeError, match="'records' takes a list"):
        script.lua.keys.values("create_job", "KEYS", {**dict.fromkeys(script.lua.keys.fixed, "k"),
                                                      "records": "not a list"})  # fmt: skip
    lua_file, source = lua.load("create_job")
    assert lua_file.keys.tail == "records" and lua_file.args.tail == "fields"
    assert "local records = {} for i = 7, #KEYS do records[i - 6] = KEYS[i] end" in source


def test_a_legacy_redis_blob_on_the_garbage_list_is_deleted(store: Store) -> None:
    legacy = keys.blob("checkpoint", new_id("job"))
    store.blobs.legacy.write(legacy, [b"old bytes"])
    store.redis.rpush(keys.blob_garbage(), legacy)
    store.blobs.collect()
    assert not store.redis.exists(legacy)
    assert legacy.encode() not in store.redis.lrange(keys.blob_garbage(), 0, -1)


def test_a_delete_retries_when_the_users_set_is_not_what_it_was_given(store: Store) -> None:
    """The script refuses records that are not exactly the users set's members."""
    tenant, dataset_id, user = f"t{new_id('x')}", new_id("ds"), new_id("job")
    store.redis.hset(keys.dataset(dataset_id), "tenant", tenant)
    store.redis.sadd(keys.dataset_users(dataset_id), user)
    given = {
        "dataset": keys.dataset(dataset_id),
        "users": keys.dataset_users(dataset_id),
        "datasets": keys.tenant_datasets(tenant),
        "garbage": keys.blob_garbage(),
        "usage": keys.tenant_usage(tenant),
        "legacy": keys.blob("dataset", dataset_id),
    }
    args = {
        "tenant": tenant,
        "dataset_id": dataset_id,
        "job_prefix": keys.JOB,
        "object": keys.dataset_object(tenant, dataset_id),
        "since": "",
        "now": "now",
    }
    delete = store.lifecycle._delete_dataset
    assert delete(keys={**given, "records": []}, args=args) == [b"retry"]
    assert delete(keys={**given, "records": [keys.job("other")]}, args=args) == [b"retry"]
    assert store.redis.exists(keys.dataset(dataset_id))
    # With its members' records (a deleted job leaves the set), the delete goes ahead.
    assert delete(keys={**given, "records": [keys.job(user)]}, args=args) == [b"deleted"]
    assert not store.redis.exists(keys.dataset(dataset_id), keys.dataset_users(dataset_id))
    store.blobs.collect()
