"""Every command that writes in several transactions, killed after each of its commits, then run again:
the result, history included, equals that of a run never interrupted (on each real store).

The kill is simulated in-process: after the k-th commit the process is "dead" (every later commit rolls
back and raises), the store is closed and opened again, and the lease the dead run held is freed (a
dead process's lease is, see ``graph.lease``). ``test_a_killed_cli_resolve_*`` kills a real process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from analytics.embedding_store import load_embeddings
from analytics.embeddings import EmbeddingSettings, embed_store
from api.access import Principal
from api.service import CustomerService
from graph.embedded import EmbeddedTransaction
from graph.model import Event, IdentifierLink, SourceRecord
from graph.neo4j_store import Neo4jTransaction
from graph.query import Query
from graph.settings import Settings, open_store
from graph.store import GraphStore
from resolve.runner import resolve
from resolve.settings import ResolveSettings

SETTINGS = ResolveSettings(blocklist={"email": ["family@x.com"]})
_RUN_ID = re.compile(r"resolve run \w+")  # a history entry's reason names its run


class Killed(BaseException):
    """The simulated kill: not an Exception, so nothing on the way up handles it."""


def _rec(rid: str, email: str, phone: str = "", name: str = "Ann", sku: str = "") -> SourceRecord:
    links = [IdentifierLink("email", email)] + ([IdentifierLink("phone", phone)] if phone else [])
    events = [Event("purchase", "2025-01-0%sT10:00:00Z" % (1 + int(rid) % 9), {"sku": sku})] if sku else []
    return SourceRecord("crm", rid, links, {"first_name": name, "last_name": "Lee"}, "2025-01-01T00:00:00Z", events)


FIRST = [
    _rec("1", "a@x.com", "+447911000001", sku="S1"), _rec("2", "a@x.com", sku="S2"),
    _rec("3", "b@x.com", "+447911000003", "Bo", sku="S1"), _rec("4", "c@x.com", "+447911000003", "Bo", "S3"),
    _rec("5", "family@x.com", "", "Cat", "S2"), _rec("6", "family@x.com", "", "Dan", "S3"),
    _rec("7", "test@test.com", "", "Eve", "S1"), _rec("8", "test@test.com", "", "Fay", "S4"),
]  # fmt: skip
SECOND = [  # joins the two Bo records' profile with Ann's, and brings new people
    _rec("9", "a@x.com", "+447911000003", sku="S4"), _rec("10", "g@x.com", "", "Gil", "S2"),
    _rec("11", "h@x.com", "+447911000011", "Hal", "S1"),
]  # fmt: skip


def snapshot(store: GraphStore) -> dict[str, Any]:
    """Everything a run leaves, without run ids and times."""

    def rows(text: str) -> list[tuple[Any, ...]]:
        found = (tuple(_RUN_ID.sub("resolve run *", str(v)) for v in r.values()) for r in tx.run(Query("x", text)))
        return sorted(found)

    with store.transaction() as tx:
        return _snapshot(store, rows)


def _snapshot(store: GraphStore, rows: Callable[[str], list[tuple[Any, ...]]]) -> dict[str, Any]:
    return {
        "assigned": rows("MATCH (r:Record)-[:IN_PROFILE]->(p:CustomerProfile) RETURN r.key AS r, p.id AS p"),
        "profiles": rows("MATCH (p:CustomerProfile) RETURN p.id AS id, p.size AS size"),
        "aliases": rows("MATCH (a:ProfileAlias) RETURN a.id AS id, a.target AS t"),
        "history": rows(
            "MATCH (e:ProfileEvent) RETURN e.profile_id AS p, e.kind AS k, e.detail AS d, e.reason AS r, e.actor AS a"
        ),  # fmt: skip
        "matches": rows("MATCH (x:MatchLink) RETURN x.record_a AS a, x.record_b AS b"),
        "rejected": rows("MATCH (x:RejectedLink) RETURN x.record AS r, x.identifier AS i, x.reason AS why"),
        "households": rows("MATCH (p:CustomerProfile)-[:IN_HOUSEHOLD]->(h:Household) RETURN p.id AS p, h.id AS h"),
        "history_links": rows(
            "MATCH (p:CustomerProfile)-[:HAS_HISTORY]->(e:ProfileEvent) RETURN p.id AS p, e.kind AS k, e.detail AS d"
        ),  # fmt: skip
        "statuses": sorted(store.flagged_identifiers().items()),
        "overrides": rows(
            "MATCH (o:Override) RETURN o.kind AS k, o.record_a AS a, o.record_b AS b, o.reason AS r, o.actor AS who"
        ),  # fmt: skip
        "changed": store.changed_records(),
        "pending": store.pending_journal(),
        "records": rows("MATCH (r:Record) RETURN r.key AS k, r.hash AS h"),
        "links": rows("MATCH (r:Record)-[:HAS_IDENTIFIER]->(i:Identifier) RETURN r.key AS r, i.key AS i"),
        "events": rows("MATCH (r:Record)-[:HAS_EVENT]->(e:Event) RETURN r.key AS r, e.key AS e"),
    }


class Stores:
    """Fresh stores of one kind, each opened again as a new process would."""

    def __init__(self, settings: Settings, tmp_path: Path) -> None:
        self.settings, self.tmp_path, self.count = settings, tmp_path, 0
        self._template: tuple[Path, Any] | None = None
        self.transaction_rows: int | None = None  # small: a run spans many transactions, as a big one does

    def _open(self, settings: Settings) -> GraphStore:
        store = open_store(settings)
        if self.transaction_rows:
            store.transaction_rows = self.transaction_rows
        return store

    def fresh(self) -> GraphStore:
        self.count += 1
        settings = self.settings
        if settings.store == "embedded":
            settings = settings.model_copy(update={"data_dir": self.tmp_path / f"run{self.count}"})
        store = self._open(settings)
        if settings.store == "neo4j":
            store.clear()
        self.current = settings
        return store

    def prepared(self, prepare: Callable[[GraphStore], Any]) -> tuple[GraphStore, Any]:
        """A fresh store after ``prepare``: on the embedded store a copy of the files of the first one
        prepared (the same state, much faster); on Neo4j prepared again."""
        if self.settings.store == "neo4j":
            store = self.fresh()
            return store, prepare(store)
        if self._template is None:
            store = self.fresh()
            ready = prepare(store)
            store.close()
            self._template = (self.current.data_dir, ready)
        self.count += 1
        self.current = self.settings.model_copy(update={"data_dir": self.tmp_path / f"run{self.count}"})
        shutil.copytree(self._template[0], self.current.data_dir)
        return self._open(self.current), self._template[1]

    def reopen(self, store: GraphStore) -> GraphStore:
        store.close()
        store = self._open(self.current)
        store.cypher("free_lease", "MATCH (l:WriterLease) SET l.holder = ''")  # its holder is dead
        return store


@pytest.fixture
def stores(store_settings: Settings, tmp_path: Path) -> Stores:
    return Stores(store_settings, tmp_path)


@contextmanager
def killed_after(k: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Every transaction commits until the k-th commit; from then on the process is dead. Yields the
    count of commits made (``k=0``: never killed, so the count is the number of commit points)."""
    state = {"commits": 0, "dead": 0}
    for cls in (EmbeddedTransaction, Neo4jTransaction):
        original = cls._commit

        def commit(self: Any, original: Callable[[Any], None] = original) -> None:
            if state["dead"]:
                self._rollback()
                raise Killed
            original(self)
            state["commits"] += 1
            if state["commits"] == k:
                state["dead"] = 1
                raise Killed

        monkeypatch.setattr(cls, "_commit", commit)
    yield state
    monkeypatch.undo()


def _check_every_commit_point(
    stores: Stores, monkeypatch: pytest.MonkeyPatch, prepare: Callable[[GraphStore], Any],
    command: Callable[[GraphStore, Any], None],
) -> int:  # fmt: skip
    """Run ``command`` uninterrupted, then killed after each of its commits and run again; the results
    must all be equal. Returns the number of commit points checked."""
    store, ready = stores.prepared(prepare)
    with killed_after(0, monkeypatch) as state:
        command(store, ready)
    expected, points = snapshot(store), state["commits"]
    store.close()
    assert points >= 2 and expected["pending"] is None
    for k in range(1, points + 1):
        store, ready = stores.prepared(prepare)
        with killed_after(k, monkeypatch), pytest.raises(Killed):
            command(store, ready)
        store = stores.reopen(store)
        command(store, ready)  # run again
        assert snapshot(store) == expected, f"killed after commit {k} of {points}"
        store.close()
    return points


def _resolved(store: GraphStore) -> None:
    store.upsert_records(FIRST)
    resolve(store, SETTINGS)
    store.upsert_records(SECOND)


@pytest.mark.parametrize("transaction_rows", [None, 4])
def test_resolve_killed_at_every_commit_completes_on_rerun(
    stores: Stores, monkeypatch: pytest.MonkeyPatch, transaction_rows: int | None
) -> None:
    stores.transaction_rows = transaction_rows
    points = _check_every_commit_point(stores, monkeypatch, _resolved, lambda store, _: _resolve(store))
    if transaction_rows:
        assert points >= 10  # lease, the journal, every step in several transactions, the run record
    else:
        assert points == 3  # lease taken, the whole run in one transaction, lease released


def _resolve(store: GraphStore) -> None:
    resolve(store, SETTINGS, incremental=True)


def _profiles_to_merge(store: GraphStore) -> list[str]:
    _resolved(store)
    _resolve(store)
    frame = store.assignments().set_index("record")["profile_id"]
    return [frame["crm:10"], frame["crm:11"]]


def test_merge_killed_at_every_commit_completes_on_rerun(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    stores.transaction_rows = 4

    def merge(store: GraphStore, ids: list[str]) -> None:
        CustomerService(store, principal=Principal("ann")).merge_profiles(ids, "same customer", SETTINGS)

    _check_every_commit_point(stores, monkeypatch, _profiles_to_merge, merge)


def test_split_killed_at_every_commit_completes_on_rerun(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    stores.transaction_rows = 4

    def prepare(store: GraphStore) -> str:
        _resolved(store)
        _resolve(store)
        return str(store.assignments().set_index("record")["profile_id"]["crm:9"])

    def split(store: GraphStore, profile: str) -> None:
        CustomerService(store, principal=Principal("ann")).split_profile(profile, ["crm:9"], "two people", SETTINGS)

    _check_every_commit_point(stores, monkeypatch, prepare, split)


def test_ingest_killed_at_every_commit_completes_on_rerun(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    def ingest(store: GraphStore, _: Any) -> None:
        for part in (FIRST[:4], FIRST[4:], SECOND):  # three batches, three transactions
            store.upsert_records(part)

    _check_every_commit_point(stores, monkeypatch, lambda store: None, ingest)


def test_embed_killed_at_every_commit_completes_on_rerun(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = EmbeddingSettings(workers=1, walks_per_node=4, dimensions=8, seed=3)

    def prepare(store: GraphStore) -> None:
        _resolved(store)
        _resolve(store)

    def embed(store: GraphStore, _: Any) -> None:
        embed_store(store, settings)

    store = stores.fresh()
    prepare(store)
    embed(store, None)
    expected = load_embeddings(store)
    store.close()
    assert expected is not None
    for k in (1,):  # embed writes in one transaction: killed at its commit, or before
        store = stores.fresh()
        prepare(store)
        with killed_after(k, monkeypatch), pytest.raises(Killed):
            embed(store, None)
        store = stores.reopen(store)
        embed(store, None)
        again = load_embeddings(store)
        assert again is not None and list(again.keys) == list(expected.keys)
        count = expected.version.rpartition(":")[2]  # the version names the last run (its id differs) and the events
        assert again.version.rpartition(":")[2] == count and (again.vectors == expected.vectors).all()
        store.close()


KILL_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from graph.embedded import EmbeddedStore
    from graph.neo4j_store import Neo4jStore
    from resolve import apply
    EmbeddedStore.transaction_rows = Neo4jStore.transaction_rows = 4  # a run of many transactions
    after, count, original = int(os.environ["KILL_AFTER_COMMIT"]), [0], apply._commit
    def commit(store, units):
        original(store, units)
        count[0] += 1
        if count[0] == after:
            os._exit(137)  # no finally, no cleanup: as kill -9
    apply._commit = commit
    from api.cli import main
    sys.argv = ["cdp", *sys.argv[1:]]
    main()
    """
)


def _cdp(args: list[str], env: dict[str, str], kill_after: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**env, "KILL_AFTER_COMMIT": str(kill_after or 0)}
    code = (
        KILL_SCRIPT if kill_after else "import sys\nfrom api.cli import main\nsys.argv = ['cdp', *sys.argv[1:]]\nmain()"
    )
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("kill_after", [2, 5])
def test_a_killed_cli_resolve_is_finished_by_the_next_one(
    stores: Stores, monkeypatch: pytest.MonkeyPatch, kill_after: int
) -> None:
    """A real process killed (os._exit) after the 2nd or 5th transaction applying its plan: no cleanup
    ran, the lease's holder is dead, the embedded store's log was not checkpointed. The next `cdp resolve`
    finishes it."""
    store = stores.fresh()
    _resolved(store)
    store.close()
    env = {**os.environ, "CDP_STORE": stores.current.store, "CDP_DATA_DIR": str(stores.current.data_dir),
           "PYTHONPATH": str(Path(__file__).parents[2])}  # fmt: skip
    settings = stores.tmp_path / "resolve.json"
    settings.write_text(SETTINGS.to_json())
    killed = _cdp(["resolve", "--settings", str(settings)], env, kill_after)
    assert killed.returncode == 137, killed.stderr
    again = _cdp(["resolve", "--settings", str(settings)], env)
    assert again.returncode == 0, again.stderr
    store = open_store(stores.current)
    got = snapshot(store)
    store.close()
    reference = stores.fresh()
    _resolved(reference)
    _resolve(reference)
    assert got == snapshot(reference)
    reference.close()


def test_a_dry_run_says_an_interrupted_run_is_pending(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    stores.transaction_rows = 4
    store, _ = stores.prepared(_resolved)
    with killed_after(5, monkeypatch), pytest.raises(Killed):
        _resolve(store)
    store = stores.reopen(store)
    pending = store.pending_journal()
    assert pending is not None
    assert resolve(store, SETTINGS, dry_run=True).pending_run == pending["run_id"]
    _resolve(store)
    assert store.pending_journal() is None and resolve(store, SETTINGS, dry_run=True).pending_run is None
    store.close()
