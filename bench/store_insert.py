"""Bulk insert through the save pipeline vs the bare driver insert of the same rows.

Both write the same rows into the same SQLite file, in batches of the same size with
one transaction per batch. The bare insert gets its rows fully prepared outside the
timed region — ids, system fields, and every value already converted as the driver
takes it — and runs the driver's ``executemany``: the floor. The ratio is the whole
cost of the pipeline: coercion, validation, defaults, ids, hooks, reference checks
and getting values to the driver.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, datetime

from sqlalchemy import insert

from workroute.kernel.clock import ManualClock
from workroute.kernel.ids import make_id
from workroute.org import Org

RECORDS = int(os.environ.get("BENCH_RECORDS", "20000"))
BATCH = 200
ROUNDS = 3


def _input_rows(n: int) -> list[dict[str, object]]:
    return [
        {
            "Name": f"Account {i}",
            "Industry": "Energy",
            "NumberOfEmployees": i % 5000,
            "AnnualRevenue": i * 10.5,
            "Phone": "+1 555 0100",
            "BillingCity": "Lyon",
            "Description": "A customer of long standing",
        }
        for i in range(n)
    ]


def _run_pipeline(org: Org, admin: str, rows: list[dict[str, object]]) -> float:
    start = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        org.store.insert("Account", rows[i : i + BATCH], user_id=admin)
    return time.perf_counter() - start


def _run_bare(org: Org, admin: str, rows: list[dict[str, object]], round_no: int) -> float:
    obj = org.schema.get("Account")
    plan = org.store.plan(obj)
    now = org.clock.now()
    full = []
    for i, row in enumerate(rows):
        r: dict[str, object] = dict.fromkeys(plan.columns)
        r.update(row)
        r.update(
            Id=make_id("001", 10**12 + round_no * 10**7 + i + 1),
            IsDeleted=False,
            CreatedDate=now,
            LastModifiedDate=now,
            SystemModstamp=now,
            CreatedById=admin,
            LastModifiedById=admin,
            OwnerId=admin,
        )
        full.append(r)
    table = org.store.table(obj)
    dialect = org.db.engine.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=plan.columns)
    names = list(compiled.positiontup or [])
    procs = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    params = [
        tuple(
            r[n] if p is None or r[n] is None else p(r[n])
            for n, p in zip(names, procs, strict=True)
        )
        for r in full
    ]
    sql = str(compiled)
    start = time.perf_counter()
    for i in range(0, len(params), BATCH):
        with org.db.write() as conn:
            conn.exec_driver_sql(sql, params[i : i + BATCH])
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        org = Org.open(
            database_url=f"sqlite+pysqlite:///{tmp}/bench.db",
            clock=ManualClock(datetime(2024, 1, 1, tzinfo=UTC)),
        )
        admin = org.initialize(admin_username="bench@example.com", admin_password="Bench-pass-1")
        rows = _input_rows(RECORDS)
        pipeline, bare = [], []
        for r in range(ROUNDS):  # interleaved, so drift on a shared machine hits both
            bare.append(_run_bare(org, admin, rows, r))
            pipeline.append(_run_pipeline(org, admin, rows))
        org.close()
    p, b = statistics.median(pipeline), statistics.median(bare)
    print(f"store_insert: {RECORDS} Account rows in batches of {BATCH}, median of {ROUNDS}")
    print(f"  save pipeline : {p:.3f} s  ({RECORDS / p:,.0f} rows/s)")
    print(f"  bare insert   : {b:.3f} s  ({RECORDS / b:,.0f} rows/s)")
    print(f"  ratio pipeline/bare: {p / b:.2f}x  (aim: <= 2x)")
