"""The synthetic deliveries must look like real ones (delivery-format.md) and be reproducible,
because the demo, the end-to-end tests and the benchmark all trust them. These tests read the
files back with their own small reader, independent of the generator and of the pipeline."""

from __future__ import annotations

import codecs
import csv
import io
import re
import statistics
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from pipelines.synthetic import (
    DEFAULT_INTERVENTIONS,
    DEFAULT_PROVIDERS,
    IrregularConsortium,
    SyntheticConsortium,
    irregular_consortium,
    write_correction,
    write_step,
    write_synthetic_consortium,
)

MONTHS = ("2025-01", "2025-02", "2025-03", "2025-04")
PROVIDERS = tuple(DEFAULT_PROVIDERS)  # the n-th provider has the n-th file convention
REGISTRY = {
    ("CBCL", "totaal"): (24, 100),
    ("CBCL", "internaliseren"): (29, 100),
    ("CBCL", "externaliseren"): (28, 100),
    ("YSR", "totaal"): (24, 100),
    ("TRF", "totaal"): (24, 100),
    ("SDQ", "totaal"): (0, 40),
    ("OBVL", "totaal"): (20, 80),
}
TRAJECTEN_HEADER = [
    "clientnummer", "bsn", "voornaam", "tussenvoegsel", "achternaam", "geboortedatum",
    "geslacht", "postcode", "adres", "woonplaats", "telefoon", "email", "traject_id", "team",
    "interventie", "hulpvorm", "startdatum", "einddatum", "reden_einde", "doelrealisatie",
    "tevredenheid", "opmerkingen", "bezwaar",
]  # fmt: skip
METINGEN_HEADER = [
    "clientnummer", "traject_id", "instrument", "schaal", "informant", "meetmoment", "datum",
    "score",
]  # fmt: skip


# ---------------------------------------------------------------------------------------
# An independent reader and checks, written from the spec.


def decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def read_table(path: Path) -> list[dict[str, str]]:
    text = decode(path.read_bytes())
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = [name.strip().lower() for name in records[0]]
    return [dict(zip(header, (v.strip() for v in r), strict=True)) for r in records[1:]]


def parse_date(text: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    day, month, year = (int(part) for part in text.split("-"))
    return date(year, month, day)


def month_end(month: str) -> date:
    year, number = int(month[:4]), int(month[5:])
    following = date(year + number // 12, number % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def elfproef(bsn: str) -> bool:
    digits = bsn.zfill(9)
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1), strict=True))
    return total != 0 and total % 11 == 0


def age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def trajectory_faulty(row: dict[str, str]) -> bool:
    if row["bsn"] and (len(row["bsn"]) not in (8, 9) or not elfproef(row["bsn"])):
        return True
    if row["interventie"] not in DEFAULT_INTERVENTIONS:
        return True
    return bool(row["einddatum"]) and parse_date(row["einddatum"]) < parse_date(row["startdatum"])


def measurement_faulty(row: dict[str, str]) -> bool:
    key = (row["instrument"], row["schaal"])
    if key not in REGISTRY:
        return True
    low, high = REGISTRY[key]
    return not low <= float(row["score"].replace(",", ".")) <= high


def files_of(landing: Path) -> dict[Path, bytes]:
    return {p.relative_to(landing): p.read_bytes() for p in sorted(landing.rglob("*.csv"))}


def tables(consortium: SyntheticConsortium, provider: str, month: str) -> tuple[list, list]:
    [delivery] = [d for d in consortium.deliveries if d.provider == provider and d.month == month]
    return (
        read_table(delivery.folder / "trajecten.csv"),
        read_table(delivery.folder / "metingen.csv"),
    )


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> SyntheticConsortium:
    landing = tmp_path_factory.mktemp("faulty") / "landing"
    return write_synthetic_consortium(landing, months=MONTHS)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> SyntheticConsortium:
    landing = tmp_path_factory.mktemp("clean") / "landing"
    return write_synthetic_consortium(landing, months=MONTHS, faulty_rows=False)


# ---------------------------------------------------------------------------------------


def test_defaults_name_the_consortium_codes() -> None:
    assert list(DEFAULT_INTERVENTIONS) == ["MST", "FFT", "PMTO", "TRIPLE-P", "IPT", "KORTDUREND"]
    assert DEFAULT_INTERVENTIONS["IPT"] == "Intensieve Pedagogische Thuishulp"
    assert len(DEFAULT_PROVIDERS) >= 4
    assert all(re.fullmatch(r"[a-z0-9-]{2,40}", code) for code in DEFAULT_PROVIDERS)


def test_write_synthetic_consortium_is_byte_identical_for_a_seed(tmp_path: Path) -> None:
    kwargs = {"months": MONTHS[:3], "trajectories_per_provider": 40}
    first = write_synthetic_consortium(tmp_path / "a", seed=7, **kwargs)
    second = write_synthetic_consortium(tmp_path / "b", seed=7, **kwargs)
    other = write_synthetic_consortium(tmp_path / "c", seed=8, **kwargs)

    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    assert len(files_of(tmp_path / "a")) == 4 * 3 * 2
    assert [d.n_trajecten for d in first.deliveries] == [d.n_trajecten for d in second.deliveries]
    assert files_of(tmp_path / "a") != files_of(tmp_path / "c")
    assert first.providers == DEFAULT_PROVIDERS and other.months == MONTHS[:3]


def test_write_synthetic_consortium_reports_what_it_wrote(faulty: SyntheticConsortium) -> None:
    assert set(faulty.interventions) <= set(DEFAULT_INTERVENTIONS)
    assert faulty.months == MONTHS
    assert [(d.provider, d.month) for d in faulty.deliveries] == [
        (p, m) for p in PROVIDERS for m in MONTHS
    ]
    for delivery in faulty.deliveries:
        assert delivery.folder.parts[-2:] == (delivery.provider, delivery.month)
        trajecten, metingen = tables(faulty, delivery.provider, delivery.month)
        assert delivery.n_trajecten == len(trajecten) > 0
        assert delivery.n_metingen == len(metingen) > 0
        assert delivery.n_bezwaar == sum(r["bezwaar"] == "ja" for r in trajecten)
        assert [c for c in trajecten[0] if c != "dossierhouder"] == TRAJECTEN_HEADER
        assert list(metingen[0]) == METINGEN_HEADER
    assert sum(d.n_bezwaar for d in faulty.deliveries) > 0


def test_bsn_passes_elfproef_when_no_faults_are_asked(clean: SyntheticConsortium) -> None:
    bsns = [
        row["bsn"]
        for d in clean.deliveries
        for row in tables(clean, d.provider, d.month)[0]
    ]  # fmt: skip
    written = [b for b in bsns if b]
    assert all(b.isdigit() and len(b) in (8, 9) and elfproef(b) for b in written)
    assert any(len(b) == 8 for b in written), "some leading zeros were dropped as by Excel"
    assert 0.10 < bsns.count("") / len(bsns) < 0.30
    assert sum(d.n_faulty_rows for d in clean.deliveries) == 0


def test_faulty_rows_are_counted_and_stay_well_under_five_percent(
    faulty: SyntheticConsortium,
) -> None:
    for delivery in faulty.deliveries:
        trajecten, metingen = tables(faulty, delivery.provider, delivery.month)
        objected = {r["traject_id"] for r in trajecten if r["bezwaar"] == "ja"}
        bad_t = sum(trajectory_faulty(r) for r in trajecten if r["bezwaar"] != "ja")
        bad_m = sum(measurement_faulty(r) for r in metingen if r["traject_id"] not in objected)
        assert bad_t + bad_m == delivery.n_faulty_rows
        assert bad_t < 0.05 * len(trajecten) and bad_m < 0.05 * len(metingen)
        # every BSN that is not deliberately broken still passes
        assert all(elfproef(r["bsn"]) for r in trajecten if r["bsn"] and not trajectory_faulty(r))
    assert sum(d.n_faulty_rows for d in faulty.deliveries) >= len(faulty.deliveries)


def test_trajectory_appears_in_several_months_and_never_after_its_end(
    clean: SyntheticConsortium,
) -> None:
    for provider in PROVIDERS:
        seen: dict[str, list[int]] = defaultdict(list)
        ended_in: dict[str, int] = {}
        for index, month in enumerate(MONTHS):
            for row in tables(clean, provider, month)[0]:
                seen[row["traject_id"]].append(index)
                if row["einddatum"]:
                    assert parse_date(row["einddatum"]).strftime("%Y-%m") == month
                    assert row["reden_einde"] in {"1", "2", "3", "4", "5"}
                    ended_in[row["traject_id"]] = index
                else:
                    assert row["reden_einde"] == row["doelrealisatie"] == row["tevredenheid"] == ""
        assert sum(len(months) >= 3 for months in seen.values()) >= 10
        assert ended_in, "some trajectories end during the period"
        for traject_id, months in seen.items():
            assert months == list(range(months[0], months[-1] + 1)), "no gaps"
            if traject_id in ended_in:
                assert months[-1] == ended_in[traject_id]
        still_running = [t for t, months in seen.items() if t not in ended_in]
        assert any(seen[t][-1] == len(MONTHS) - 1 for t in still_running)


def test_metingen_are_never_dated_after_month_end(clean: SyntheticConsortium) -> None:
    by_trajectory: dict[tuple[str, str], set[tuple[str, ...]]] = defaultdict(set)
    for delivery in clean.deliveries:
        trajecten, metingen = tables(clean, delivery.provider, delivery.month)
        owners = {r["traject_id"]: r["clientnummer"] for r in trajecten}
        for row in metingen:
            assert parse_date(row["datum"]) <= month_end(delivery.month)
            assert owners[row["traject_id"]] == row["clientnummer"]
            key = (delivery.provider, row["traject_id"])
            by_trajectory[key].add(tuple(row.values()))
    # every measurement to date: a trajectory's later delivery repeats the earlier ones
    for provider in PROVIDERS:
        first, second = tables(clean, provider, MONTHS[0]), tables(clean, provider, MONTHS[1])
        still_there = {r["traject_id"] for r in second[0]}
        earlier = {tuple(r.values()) for r in first[1] if r["traject_id"] in still_there}
        later = {tuple(r.values()) for r in second[1]}
        assert earlier <= later


def test_trajecten_values_are_valid_and_plausible(clean: SyntheticConsortium) -> None:
    rows = [r for d in clean.deliveries for r in tables(clean, d.provider, d.month)[0]]
    for row in rows:
        start = parse_date(row["startdatum"])
        assert 0 <= age(parse_date(row["geboortedatum"]), start) <= 22
        assert row["geslacht"] in {"M", "V", "X", "O"}
        assert row["interventie"] in DEFAULT_INTERVENTIONS
        assert row["hulpvorm"] in {"ambulant", "daghulp", "verblijf", "pleegzorg", "overig"}
        assert re.fullmatch(r"[1-9]\d{3} ?[A-Z]{2}", row["postcode"])
        assert re.fullmatch(r"C\d{6}", row["clientnummer"])
        assert re.fullmatch(r"T\d{4}-\d{5}", row["traject_id"])
        assert row["bezwaar"] in {"", "ja", "nee"}
        assert row["doelrealisatie"] in {"", "1", "2", "3"}
        if row["tevredenheid"]:
            assert 1 <= float(row["tevredenheid"].replace(",", ".")) <= 10
        if row["einddatum"]:
            assert parse_date(row["einddatum"]) >= start
            assert 61 <= (parse_date(row["einddatum"]) - start).days <= 426
    assert any(r["tussenvoegsel"] in {"van", "de", "van der", "van den"} for r in rows)
    assert any(r["telefoon"].startswith("06") for r in rows)
    assert any("@" in r["email"] for r in rows)
    assert any("," in r["tevredenheid"] or "." in r["tevredenheid"] for r in rows)
    assert any(";" in r["opmerkingen"] for r in rows)
    assert any("\n" in r["opmerkingen"] for r in rows)
    for provider in PROVIDERS:
        teams = {r["team"] for d in clean.deliveries if d.provider == provider
                 for r in tables(clean, provider, d.month)[0]}  # fmt: skip
        assert 3 <= len(teams) <= 4


def test_the_team_register_holds_every_delivered_team_but_one(clean: SyntheticConsortium) -> None:
    """The demo's consortium registers the teams its stewards deliver (by display name), except
    one team of the second provider, so the demo shows the unregistered team and its warning."""
    delivered = {(d.provider, r["team"]) for d in clean.deliveries
                 for r in tables(clean, d.provider, d.month)[0]}  # fmt: skip
    registered = {(p, name) for p, register in clean.teams.items() for name in register.values()}
    assert clean.unregistered_team is not None and clean.unregistered_team[0] == list(PROVIDERS)[1]
    assert delivered - registered == {clean.unregistered_team}
    assert registered <= delivered
    assert all(code != name for register in clean.teams.values() for code, name in register.items())


def test_clients_recur_within_and_across_providers(clean: SyntheticConsortium) -> None:
    trajectories_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    providers_of_bsn: dict[str, set[str]] = defaultdict(set)
    for delivery in clean.deliveries:
        for row in tables(clean, delivery.provider, delivery.month)[0]:
            trajectories_of[(delivery.provider, row["clientnummer"])].add(row["traject_id"])
            if row["bsn"]:
                providers_of_bsn[row["bsn"].zfill(9)].add(delivery.provider)
    assert any(len(ids) == 2 for ids in trajectories_of.values())
    assert any(len(providers) > 1 for providers in providers_of_bsn.values())


def test_scores_start_clinical_and_improve_on_average(tmp_path: Path) -> None:
    consortium = write_synthetic_consortium(
        tmp_path, months=MONTHS, trajectories_per_provider=150, faulty_rows=False
    )
    scores: dict[tuple, dict[str, float]] = defaultdict(dict)
    for delivery in consortium.deliveries:
        for row in tables(consortium, delivery.provider, delivery.month)[1]:
            low, high = REGISTRY[(row["instrument"], row["schaal"])]
            assert low <= float(row["score"]) <= high
            key = (delivery.provider, row["traject_id"], row["instrument"], row["schaal"])
            scores[key][row["meetmoment"]] = float(row["score"])
    t_scores = [
        s["start"] for k, s in scores.items() if "start" in s and k[2] in {"CBCL", "YSR", "TRF"}
    ]
    assert 62 <= statistics.mean(t_scores) <= 70
    changes = [s["start"] - s["eind"] for k, s in scores.items() if {"start", "eind"} <= set(s)
               and k[2] != "SDQ"]  # fmt: skip
    assert len(changes) >= 30
    assert 3 <= statistics.mean(changes) <= 9
    assert any(change < 0 for change in changes), "some clients deteriorate"


def test_cp1252_provider_file_does_not_decode_as_utf8(faulty: SyntheticConsortium) -> None:
    for delivery in faulty.deliveries:
        if delivery.provider != PROVIDERS[0]:
            continue
        data = (delivery.folder / "trajecten.csv").read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        text = data.decode("cp1252")
        assert "€" in text or "“" in text
        assert any(c in text for c in "éëï")


def test_file_conventions_differ_per_provider(faulty: SyntheticConsortium) -> None:
    def raw(provider: str) -> bytes:
        return (
            faulty.deliveries[0].folder.parent.parent / provider / MONTHS[1] / "trajecten.csv"
        ).read_bytes()

    first, second, third, fourth = (raw(p) for p in PROVIDERS)
    assert first.startswith(b"clientnummer;bsn;") and first.count(b"\r\n") > 10
    assert re.search(rb";\d{2}-\d{2}-\d{4};", first)
    assert second.startswith(codecs.BOM_UTF8 + b"clientnummer,bsn,")
    assert b"\r" not in second and re.search(rb",\d{4}-\d{2}-\d{2},", second)
    assert third.startswith(b" Clientnummer ;BSN;") and not third.startswith(codecs.BOM_UTF8)
    assert b"\r" not in third and re.search(rb";\d{1,2}-\d{1,2}-\d{4};", third)
    third.decode("utf-8")
    assert fourth.startswith(b"clientnummer;bsn;") and fourth.count(b"\r\n") > 10
    fourth.decode("utf-8")


def test_extra_column_appears_for_one_provider_only(faulty: SyntheticConsortium) -> None:
    with_extra = {
        d.provider
        for d in faulty.deliveries
        if "dossierhouder" in read_table(d.folder / "trajecten.csv")[0]
    }
    assert with_extra == {PROVIDERS[1]}


def test_write_synthetic_consortium_fills_every_month_with_few_trajectories(
    tmp_path: Path,
) -> None:
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    consortium = write_synthetic_consortium(
        tmp_path, months=months, providers={"klein": "Klein"}, trajectories_per_provider=4
    )
    assert all(d.n_trajecten >= 1 for d in consortium.deliveries)


@pytest.mark.parametrize(
    "months",
    [[], ["2025-01", "2025-03"], ["2025-1"], ["2025-13"], ["2025-02", "2025-01"]],
)
def test_write_synthetic_consortium_rejects_bad_months(tmp_path: Path, months: list[str]) -> None:
    with pytest.raises(ValueError):
        write_synthetic_consortium(tmp_path, months=months)


def test_write_correction_changes_only_that_month(tmp_path: Path) -> None:
    consortium = write_synthetic_consortium(tmp_path, months=MONTHS, trajectories_per_provider=40)
    before = files_of(tmp_path)
    provider, month = PROVIDERS[1], MONTHS[2]
    [original] = [d for d in consortium.deliveries if (d.provider, d.month) == (provider, month)]

    corrected = write_correction(tmp_path, provider, month)

    after = files_of(tmp_path)
    changed = {path for path in before if before[path] != after[path]}
    assert changed == {
        Path(provider, month, "trajecten.csv"),
        Path(provider, month, "metingen.csv"),
    }
    assert (corrected.provider, corrected.month, corrected.folder) == (
        provider, month, original.folder,
    )  # fmt: skip
    assert corrected.n_trajecten == original.n_trajecten - 1
    assert len(read_table(original.folder / "trajecten.csv")) == corrected.n_trajecten
    assert corrected.n_metingen == len(read_table(original.folder / "metingen.csv"))


def test_write_correction_keeps_conventions_and_values(tmp_path: Path) -> None:
    write_synthetic_consortium(tmp_path, months=MONTHS[:2], trajectories_per_provider=40)
    for provider in PROVIDERS:
        path = tmp_path / provider / MONTHS[1] / "trajecten.csv"
        old_bytes = path.read_bytes()
        old_rows = {r["traject_id"]: r for r in read_table(path)}

        write_correction(tmp_path, provider, MONTHS[1], seed=3)

        new_bytes = path.read_bytes()
        assert new_bytes.split(b"\n", 1)[0] == old_bytes.split(b"\n", 1)[0]
        assert new_bytes.startswith(codecs.BOM_UTF8) == old_bytes.startswith(codecs.BOM_UTF8)
        assert (b"\r\n" in new_bytes) == (b"\r\n" in old_bytes)
        assert decode(new_bytes) != decode(old_bytes)
        new_rows = {r["traject_id"]: r for r in read_table(path)}
        assert set(new_rows) < set(old_rows) and len(old_rows) - len(new_rows) == 1
        differing = [t for t in new_rows if new_rows[t] != old_rows[t]]
        assert 1 <= len(differing) <= 2
        assert all(
            {c for c in new_rows[t] if new_rows[t][c] != old_rows[t][c]} == {"team"}
            for t in differing
        )
    cp1252 = (tmp_path / PROVIDERS[0] / MONTHS[1] / "trajecten.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        cp1252.decode("utf-8")


def test_write_correction_is_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        write_synthetic_consortium(tmp_path / name, months=MONTHS[:2], trajectories_per_provider=30)
        write_correction(tmp_path / name, PROVIDERS[2], MONTHS[0], seed=5)
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")


def test_write_correction_needs_an_existing_delivery(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_correction(tmp_path, "de-boog", "2025-01")


# ---------------------------------------------------------------------------------------
# Irregular consortia (issue 11): a schedule over several runs, with ground truth.

IRREGULAR_MONTHS = ("2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09",
                    "2025-10")  # fmt: skip


def irregular(seed: int, **options: object) -> IrregularConsortium:
    return irregular_consortium(
        months=IRREGULAR_MONTHS, providers=dict(list(DEFAULT_PROVIDERS.items())[:3]),
        trajectories_per_provider=30, seed=seed, **options,
    )  # fmt: skip


def test_irregular_consortium_registers_every_team_it_delivers() -> None:
    consortium = irregular(5)
    stated = {(t.provider, t.team) for d in consortium.schedule for t in d.trajectories}
    assert stated and all(consortium.team_code(p, name) in consortium.teams[p] for p, name in stated)


def test_irregular_consortium_is_deterministic_and_irregular() -> None:
    first, again = irregular(5), irregular(5)
    assert [(d.step, d.provider, d.month, d.kind, d.fault) for d in first.schedule] == [
        (d.step, d.provider, d.month, d.kind, d.fault) for d in again.schedule
    ]
    assert all(a.files == b.files for a, b in zip(first.schedule, again.schedule, strict=True))
    for seed in range(1, 7):
        consortium = irregular(seed)
        kinds = {d.kind for d in consortium.schedule}
        assert {"regular", "late", "correction", "unregistered"} <= kinds, seed
        assert any(not d.accepted and d.fault == "column_missing" for d in consortium.schedule)
        assert any(d.workbook for d in consortium.schedule), seed
        assert any(t.bezwaar for d in consortium.schedule for t in d.trajectories), seed
        delivered = {(d.provider, d.month) for d in consortium.schedule if d.provider in consortium.providers}
        grid = {(p, m) for p in consortium.providers for m in IRREGULAR_MONTHS}
        assert delivered < grid, "some provider joins late, leaves or skips a month"
        assert {d.step for d in consortium.schedule} == {0, 1, 2}


def test_irregular_in_force_keeps_earlier_version_when_a_correction_is_rejected() -> None:
    for seed in range(1, 7):
        consortium = irregular(seed)
        for step in range(consortium.n_steps):
            in_force = {(d.provider, d.month): d for d in consortium.in_force(step)}
            for delivery in consortium.schedule:
                key = (delivery.provider, delivery.month)
                if delivery.step > step or delivery.provider not in consortium.providers:
                    continue
                newer_accepted = [
                    d for d in consortium.schedule
                    if (d.provider, d.month) == key and delivery.step < d.step <= step and d.accepted
                ]  # fmt: skip
                if delivery.accepted and not newer_accepted:
                    assert in_force[key] is delivery
                if not delivery.accepted and not newer_accepted and key in in_force:
                    assert in_force[key].step < delivery.step  # the earlier version stands


def test_irregular_files_state_what_the_ground_truth_says(tmp_path: Path) -> None:
    """Read back with this module's own reader: CSV rows and workbook sheets hold exactly the
    trajectories and scores the ground truth records; a rejected delivery lacks `geslacht`."""
    from openpyxl import load_workbook

    consortium = irregular(7)
    for step in range(consortium.n_steps):
        for delivery in write_step(tmp_path, consortium, step):
            folder = tmp_path / delivery.provider / delivery.month
            if delivery.workbook:
                assert sorted(p.name for p in folder.iterdir()) == ["export.xlsx"]
                book = load_workbook(folder / "export.xlsx", read_only=True)
                sheets = {}
                for name in ("trajecten", "metingen"):
                    rows = list(book[name].iter_rows(values_only=True))
                    header = [str(h).strip().lower() for h in rows[0]]
                    sheets[name] = [dict(zip(header, r, strict=True)) for r in rows[1:]]
                trajecten, metingen = sheets["trajecten"], sheets["metingen"]
            else:
                trajecten = read_table(folder / "trajecten.csv")
                metingen = read_table(folder / "metingen.csv")
            if delivery.fault == "column_missing":
                assert "geslacht" not in trajecten[0]
                continue
            if not delivery.accepted:
                continue
            assert [r["traject_id"] for r in trajecten] == [t.traject_id for t in delivery.trajectories]
            assert [str(r["team"]) for r in trajecten] == [t.team for t in delivery.trajectories]
            assert [str(r["score"]) for r in metingen] == [str(m.score) for m in delivery.measurements]
            assert [r["bezwaar"] == "ja" for r in trajecten] == [t.bezwaar for t in delivery.trajectories]
