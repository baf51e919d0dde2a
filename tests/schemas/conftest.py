"""Small, valid deliveries written to a temporary landing folder, and the one way these tests
inspect them: `inspect_delivery` exactly as `databank check` and the pipeline call it.

Every identifying cell holds a distinctive canary value (delivery-format.md §9.13) so that the
report tests can assert none of them ever leaves the read step."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from pseudonymise.keys import throwaway_key
from pseudonymise.pseudonyms import Pseudonymiser
from pseudonymise.read_step import inspect_delivery
from schemas.config import ConsortiumConfig, load_config
from schemas.validation import Status, ValidatedDelivery

DEFAULTS = Path(__file__).resolve().parents[2] / "schemas" / "defaults"
PROVIDER = "de-boog"  # registered in schemas/defaults/consortium.toml
MONTH = "2026-10"
TODAY = date(2026, 11, 25)
N_TRAJECTORIES = 20
MEASUREMENTS_PER_TRAJECTORY = 2  # 40 measurements: one bad row is 2.5 %, 4 are exactly 10 %

# Valid under the elfproef (stdnum.nl.bsn.is_valid); one per trajectory, the first is the canary.
BSNS = (
    "271828006", "271828018", "271828031", "271828043", "271828055", "271828067", "271828079",
    "271828080", "271828092", "271828109", "271828110", "271828122", "271828134", "271828146",
    "271828158", "271828171", "271828183", "271828195", "271828201", "271828213", "271828225",
    "271828237",
)
CANARY_BSN = BSNS[0]

TRAJECTEN_HEADER = [
    "clientnummer", "bsn", "voornaam", "tussenvoegsel", "achternaam", "geboortedatum",
    "geslacht", "postcode", "adres", "woonplaats", "telefoon", "email", "traject_id", "team",
    "interventie", "hulpvorm", "startdatum", "einddatum", "reden_einde", "doelrealisatie",
    "tevredenheid", "opmerkingen", "bezwaar",
]
METINGEN_HEADER = [
    "clientnummer", "traject_id", "instrument", "schaal", "informant", "meetmoment", "datum", "score",
]
HEADERS = {"trajecten": TRAJECTEN_HEADER, "metingen": METINGEN_HEADER}

GESLACHTEN = ("M", "V", "X", "O")
INTERVENTIES = ("MST", "FFT", "PMTO", "TRIPLE-P", "IPT", "KORTDUREND")
HULPVORMEN = ("ambulant", "daghulp", "verblijf", "pleegzorg", "overig")

# Identifying values (§9.13) that must never appear in a report, message, log line or the
# quarantine frame. Every row carries them (the ids and BSN are numbered per row).
CANARIES = (
    "Canaryvoornaam", "van Kanarie", "Zwaluwstaart", "kanarie@example.nl", "GEHEIM-OPMERKING",
    "CLNR-CANARY", "TRJ-CANARY", "9999 ZZ", "Kanarieweg 13", "Kanariedorp", "06-99887766",
    "17-06-2012", *BSNS,
)


def clientnummer(i: int) -> str:
    return f"CLNR-CANARY-{i + 1}"


def traject_id(i: int) -> str:
    return f"TRJ-CANARY-{i + 1}"


def trajectory_row(i: int) -> dict[str, str]:
    """Trajectory i: started 1 March 2026, aged 13 at start; even rows ended in the month."""
    ended = i % 2 == 0
    return {
        "clientnummer": clientnummer(i),
        "bsn": BSNS[i % len(BSNS)],
        "voornaam": "Canaryvoornaam",
        "tussenvoegsel": "van Kanarie",
        "achternaam": "Zwaluwstaart",
        "geboortedatum": "17-06-2012",
        "geslacht": GESLACHTEN[i % len(GESLACHTEN)],
        "postcode": "9999 ZZ",
        "adres": "Kanarieweg 13",
        "woonplaats": "Kanariedorp",
        "telefoon": "06-99887766",
        "email": "kanarie@example.nl",
        "traject_id": traject_id(i),
        "team": "Team Noord" if i % 2 else "Team Zuid",
        "interventie": INTERVENTIES[i % len(INTERVENTIES)],
        "hulpvorm": HULPVORMEN[i % len(HULPVORMEN)],
        "startdatum": "01-03-2026",
        "einddatum": "15-10-2026" if ended else "",
        "reden_einde": "1" if ended else "",
        "doelrealisatie": "2" if ended else "",
        "tevredenheid": "8" if ended else "",
        "opmerkingen": "GEHEIM-OPMERKING",
        "bezwaar": "nee" if i % 3 else "",
    }


def measurement_row(i: int, j: int) -> dict[str, str]:
    """Measurement j of trajectory i: a CBCL start score and an SDQ end score."""
    first = j == 0
    return {
        "clientnummer": clientnummer(i),
        "traject_id": traject_id(i),
        "instrument": "CBCL" if first else "SDQ",
        "schaal": "totaal",
        "informant": "ouder" if first else "jeugdige",
        "meetmoment": "start" if first else "eind",
        "datum": "05-03-2026" if first else "10-10-2026",
        "score": "70" if first else "12,5",
    }


@dataclass
class DeliveryBuilder:
    """A valid delivery as rows of text cells; change it, then `write()` it as
    `<root>/landing/<provider>/<month>/{trajecten,metingen}.csv` (`;`, dd-mm-yyyy, UTF-8)."""

    root: Path
    provider: str = PROVIDER
    month: str = MONTH
    delimiter: str = ";"
    line_ending: str = "\n"
    encoding: str = "utf-8"
    columns: dict[str, list[str]] = field(
        default_factory=lambda: {t: list(h) for t, h in HEADERS.items()}
    )
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    _lines: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.rows:
            self.rows = {
                "trajecten": [trajectory_row(i) for i in range(N_TRAJECTORIES)],
                "metingen": [
                    measurement_row(i, j)
                    for i in range(N_TRAJECTORIES)
                    for j in range(MEASUREMENTS_PER_TRAJECTORY)
                ],
            }

    @property
    def folder(self) -> Path:
        return self.root / "landing" / self.provider / self.month

    def set(self, table: str, index: int, **cells: str) -> DeliveryBuilder:
        """Override cells of data row `index` (0-based) of `table`."""
        self.rows[table][index].update(cells)
        return self

    def add(self, table: str, like: int = 0, **cells: str) -> int:
        """Append a copy of row `like` with `cells` overridden; returns the new row's index."""
        row = dict(self.rows[table][like])
        row.update(cells)
        self.rows[table].append(row)
        return len(self.rows[table]) - 1

    def drop_column(self, table: str, name: str) -> DeliveryBuilder:
        self.columns[table].remove(name)
        return self

    def rename_column(self, table: str, old: str, new: str) -> DeliveryBuilder:
        self.columns[table] = [new if c == old else c for c in self.columns[table]]
        for row in self.rows[table]:
            row[new] = row.get(old, "")
        return self

    def add_column(self, table: str, name: str, value: str = "") -> DeliveryBuilder:
        self.columns[table].append(name)
        for row in self.rows[table]:
            row.setdefault(name, value)
        return self

    def clear_rows(self, table: str) -> DeliveryBuilder:
        self.rows[table] = []
        return self

    def text(self, table: str) -> str:
        """The file's text; also records the physical line on which each record starts."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=self.delimiter, lineterminator=self.line_ending)
        writer.writerow(self.columns[table])
        lines: list[int] = []
        for row in self.rows[table]:
            lines.append(out.getvalue().count("\n") + 1)
            writer.writerow([row.get(column, "") for column in self.columns[table]])
        self._lines[table] = lines
        return out.getvalue()

    def write(self, tables: Iterable[str] = ("trajecten", "metingen")) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        for table in tables:
            self.path(table).write_bytes(self.text(table).encode(self.encoding))
        return self.folder

    def path(self, table: str) -> Path:
        return self.folder / f"{table}.csv"

    def line(self, table: str, index: int) -> int:
        """Physical line (header = 1) of data row `index`, as written by the last `write()`."""
        if table not in self._lines:
            self.text(table)
        return self._lines[table][index]

    def replace_line(self, table: str, line: int, new_text: str) -> None:
        """Rewrite one physical line of an already written file (for malformed rows)."""
        path = self.path(table)
        lines = path.read_bytes().decode(self.encoding).split(self.line_ending)
        lines[line - 1] = new_text
        path.write_bytes(self.line_ending.join(lines).encode(self.encoding))

    def raw_line(self, table: str, line: int) -> str:
        return self.path(table).read_bytes().decode(self.encoding).split(self.line_ending)[line - 1]

    def inspect(
        self, config: ConsortiumConfig, today: date = TODAY, write: bool = True
    ) -> ValidatedDelivery:
        if write:
            self.write()
        return inspect(self.folder, self.provider, self.month, config, today=today)


def inspect(
    folder: Path, provider: str, month: str, config: ConsortiumConfig, today: date = TODAY
) -> ValidatedDelivery:
    """`inspect_delivery` as `databank check` calls it: a throwaway key, a fixed 'today'."""
    return inspect_delivery(folder, provider, month, config, Pseudonymiser(throwaway_key()), today)


def codes(validated: ValidatedDelivery) -> list[str]:
    return [fault.code for fault in validated.verdict.faults]


def faults_with(validated: ValidatedDelivery, code: str) -> list:
    return [fault for fault in validated.verdict.faults if fault.code == code]


def assert_quarantined(
    validated: ValidatedDelivery,
    table: str,
    line: int,
    code: str,
    column: str | None,
    *,
    loaded: int | None = None,
) -> None:
    """The row at physical `line` is quarantined with `code` (and `column`), is absent from the
    valid rows, the delivery is accepted with quarantine and the other rows loaded."""
    verdict = validated.verdict
    assert verdict.status is Status.ACCEPTED_WITH_QUARANTINE, [f.log_line() for f in verdict.faults]
    matching = [f for f in verdict.faults if f.code == code and f.table == table and f.row == line]
    assert matching, f"no {code} on {table} line {line}: {[f.log_line() for f in verdict.faults]}"
    assert any(f.column == column for f in matching), [f.column for f in matching]
    valid = validated.trajectories if table == "trajecten" else validated.measurements
    assert line not in set(valid["row_number"])
    q = validated.quarantine
    hit = q[(q["table_name"] == table) & (q["row_number"] == line) & (q["reason_code"] == code)]
    assert len(hit) >= 1
    if column is not None:
        assert column in set(hit["column_name"])
    if loaded is None:
        loaded = (N_TRAJECTORIES if table == "trajecten" else N_TRAJECTORIES * MEASUREMENTS_PER_TRAJECTORY) - 1
    assert len(valid) == loaded
    other = validated.measurements if table == "trajecten" else validated.trajectories
    assert len(other) == (
        N_TRAJECTORIES * MEASUREMENTS_PER_TRAJECTORY if table == "trajecten" else N_TRAJECTORIES
    )


@pytest.fixture(scope="session")
def config() -> ConsortiumConfig:
    return load_config(DEFAULTS)


@pytest.fixture
def delivery(tmp_path: Path) -> DeliveryBuilder:
    return DeliveryBuilder(tmp_path)


@pytest.fixture
def make_delivery(tmp_path: Path) -> Callable[..., DeliveryBuilder]:
    """For tests that need another provider or month folder than the default."""

    def make(**kwargs: object) -> DeliveryBuilder:
        return DeliveryBuilder(tmp_path, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture(name="inspect")
def inspect_fixture() -> Callable[..., ValidatedDelivery]:
    return inspect


@pytest.fixture(name="check")
def check_helpers() -> Helpers:
    return Helpers()


class Helpers:
    """Assertion helpers, handed to tests as the `check` fixture (conftest is not imported)."""

    quarantined = staticmethod(assert_quarantined)
    codes = staticmethod(codes)
    faults_with = staticmethod(faults_with)
    canaries = CANARIES
    canary_bsn = CANARY_BSN
    bsns = BSNS
    n_trajectories = N_TRAJECTORIES
    n_measurements = N_TRAJECTORIES * MEASUREMENTS_PER_TRAJECTORY
    provider = PROVIDER
    month = MONTH
    today = TODAY
