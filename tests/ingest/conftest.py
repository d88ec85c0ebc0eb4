from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

CRM_CSV = """crm_id,email,phone,first_name,surname,dob
C1, Ann.Smith@Example.COM ,07911 123456,ann,smith,12/03/1985
C2,bob@example.com,+44 7911 123457,Bob,Jones,1990-01-31
C3,not-an-email,12,Carla,Díaz,31 Dec 1979
C4,dup@example.com,,Dee,Dup,1970-01-01
,orphan@example.com,,No,Id,1970-01-01
C5,too,many,fields,here,1970-01-01,extra
"""

WEB_JSONL = "\n".join(
    [
        json.dumps({"session_id": "S1", "cookie": "CK-1", "login_email": "ann.smith@example.com",
                    "ts": "2025-02-01T10:00:00Z", "page": "/shoes"}),
        "{not json",
        json.dumps({"session_id": "S2", "cookie": "ck-2", "login_email": None, "ts": "yesterday", "page": "/"}),
    ]
) + "\n"  # fmt: skip

SOURCES_YAML = """
sources:
  crm:
    path: crm.csv
    record_id: crm_id
    identifiers: {crm_id: crm_id, email: email, phone: phone}
    attributes: {first_name: first_name, surname: last_name, dob: birth_date}
  web:
    path: web.jsonl
    record_id: session_id
    identifiers: {cookie: cookie_id, login_email: email}
    event: {type: page_view, timestamp: ts, properties: [page]}
  pos:
    path: pos.parquet
    record_id: txn_id
    identifiers: {loyalty_card: loyalty_id, phone: phone}
    event: {type: purchase, timestamp: ts, properties: [sku, amount]}
"""


@pytest.fixture
def sources_dir(tmp_path: Path) -> Path:
    (tmp_path / "crm.csv").write_text(CRM_CSV)
    (tmp_path / "web.jsonl").write_text(WEB_JSONL)
    pos = pd.DataFrame(
        {
            "txn_id": ["T1", "T2"],
            "loyalty_card": ["L-9", "L-9"],
            "phone": ["07911123456", None],
            "ts": ["2025-03-01T09:00:00Z", "2025-03-02T09:00:00Z"],
            "sku": ["00123", "B7"],
            "amount": [19.99, 5.0],
        }
    )
    pos.to_parquet(tmp_path / "pos.parquet", index=False)
    (tmp_path / "sources.yaml").write_text(SOURCES_YAML)
    return tmp_path
