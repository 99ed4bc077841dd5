"""Plate formats (GA 36-2018) and the plate reader's accuracy on the labelled synthetic set."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import pytest

from xiuhua.video.adapters.vision.plates import ClpPlateReader, PlainOptions, RecognizerOnlyReader, plate_color
from xiuhua.video.domain.plates import (
    NEW_ENERGY_LARGE,
    NEW_ENERGY_SMALL,
    STANDARD,
    InvalidPlateError,
    PlateColor,
    check_plate,
    expected_color,
    is_valid_plate,
    layout_of,
    mask_plate,
)

PLATES = Path(__file__).resolve().parents[1] / "data" / "plates"
LABELS = list(csv.DictReader((PLATES / "labels.csv").open(encoding="utf-8")))


@pytest.mark.parametrize(
    ("text", "layout"),
    [
        ("豫B12345", STANDARD),
        ("京A·8K2M3", STANDARD),
        ("粤B1234学", STANDARD),
        ("沪AD12345", NEW_ENERGY_SMALL),
        ("苏EFA1234", NEW_ENERGY_SMALL),
        ("浙A12345D", NEW_ENERGY_LARGE),
    ],
)
def test_valid_numbers_fit_their_layout(text: str, layout: object) -> None:
    assert layout_of(check_plate(text)) is layout


@pytest.mark.parametrize(
    "text",
    ["豫112345", "B123456", "豫BI2345", "豫B1234", "豫B123456", "台B12345", "沪AX12345", "浙A1234DD", "豫B1234O", ""],
)
def test_invalid_numbers_are_refused_with_a_stable_code(text: str) -> None:
    assert not is_valid_plate(text)
    with pytest.raises(InvalidPlateError) as info:
        check_plate(text)
    assert info.value.code == "plate.invalid"


def test_normalising_masking_and_colour_by_layout() -> None:
    assert check_plate(" 豫b·12345 ") == "豫B12345"
    assert mask_plate("豫B12345") == "豫B***45"
    assert expected_color("沪AD12345") is PlateColor.GREEN
    assert expected_color("粤B1234学") is PlateColor.YELLOW
    assert expected_color("豫B12345") is PlateColor.UNKNOWN


def test_the_labelled_set_covers_colours_and_conditions() -> None:
    assert {r["color"] for r in LABELS} == {"blue", "yellow", "green"}
    conditions = {c for r in LABELS for c in r["conditions"].split("+")}
    assert {"perspective", "blur", "noise"} <= conditions
    assert all(is_valid_plate(r["text"]) for r in LABELS)
    assert all(len(r["text"]) == 8 for r in LABELS if r["color"] == "green")


@pytest.fixture(scope="module")
def reads() -> dict[str, list[str]]:
    readers = {
        "pipeline": ClpPlateReader(),
        "plain": RecognizerOnlyReader(),
        "plain_aspect": RecognizerOnlyReader(PlainOptions(keep_aspect=True)),
    }
    out: dict[str, list[str]] = {name: [] for name in readers}
    colours: list[str] = []
    for row in LABELS:
        image = cv2.imread(str(PLATES / row["file"]))
        for name, reader in readers.items():
            found = reader.read(image)
            out[name].append(found[0].text if found else "")
            if name == "pipeline":
                colours.append(found[0].color.value if found else "")
    out["colour"] = colours
    return out


def accuracy(texts: list[str]) -> float:
    return sum(t == r["text"] for t, r in zip(texts, LABELS, strict=True)) / len(LABELS)


def test_pipeline_accuracy_floor_and_better_than_the_bundled_reader_alone(reads: dict[str, list[str]]) -> None:
    pipeline, plain, aspect = accuracy(reads["pipeline"]), accuracy(reads["plain"]), accuracy(reads["plain_aspect"])
    assert pipeline >= 0.88  # measured 112/120 = 0.933 on this set
    assert pipeline >= max(plain, aspect) + 0.05  # measured: alone 0.825 (stretched) and 0.475 (as packaged)
    for colour in ("blue", "yellow", "green"):
        rows = [i for i, r in enumerate(LABELS) if r["color"] == colour]
        assert sum(reads["pipeline"][i] == LABELS[i]["text"] for i in rows) / len(rows) >= 0.8, colour


def test_pipeline_tells_the_plate_colour(reads: dict[str, list[str]]) -> None:
    right = sum(c == r["color"] for c, r in zip(reads["colour"], LABELS, strict=True))
    assert right / len(LABELS) >= 0.9


def test_unsure_reads_are_flagged_not_trusted() -> None:
    """Whatever is read from a blank wall is flagged invalid or low-confidence, so it goes to review."""
    blank = cv2.imread(str(PLATES / LABELS[0]["file"]))
    blank[:] = (90, 90, 90)
    reader = ClpPlateReader()
    assert all(not r.valid or r.confidence < 0.6 for r in reader.read(blank))
    assert plate_color(blank) is PlateColor.UNKNOWN
