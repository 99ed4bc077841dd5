"""The contract of vision providers: detectors find objects in a frame, plate readers read plates.

VisionError (InvalidInputError)
├── ModelError          a model file is missing, corrupt, or needs a GPU that is absent
├── FrameSourceError    a frame file, folder or stream cannot be read
└── DetectorConfigError a provider's options do not validate

A provider is a subclass of `Detector` or `PlateReader` whose constructor takes its validated `Options`
(a pydantic model); `registry.load_detector()` and `load_plate_reader()` build one from an entry-point name
(groups `xiuhua.detectors`, `xiuhua.plate_readers`) or a dotted path.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

from xiuhua.kernel.errors import InvalidInputError
from xiuhua.video.domain.plates import PlateColor

Image = npt.NDArray[np.uint8]
"""A BGR image as OpenCV holds it: height x width x 3."""


class VisionError(InvalidInputError):
    """Base of the vision providers' errors."""


class ModelError(VisionError):
    pass


class FrameSourceError(VisionError):
    pass


class DetectorConfigError(VisionError):
    pass


@dataclass(frozen=True, slots=True)
class Detection:
    """One object in a frame: a class label ('person', 'vehicle', 'goods', 'plate', 'object'), a box in pixels."""

    label: str
    box: tuple[int, int, int, int]  # x1, y1, x2, y2
    score: float

    @property
    def foot(self) -> tuple[float, float]:
        """Where the object stands on the ground: the middle of the box's bottom edge."""
        return ((self.box[0] + self.box[2]) / 2, float(self.box[3]))


class ProviderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Detector(ABC):
    """Finds objects in one frame. Subclasses set `name`, `labels` and `Options`."""

    name: ClassVar[str]
    labels: ClassVar[frozenset[str]]
    Options: ClassVar[type[ProviderOptions]] = ProviderOptions

    @abstractmethod
    def detect(self, frame: Image) -> list[Detection]:
        """The objects in a BGR frame; raises VisionError subclasses only."""


@dataclass(frozen=True, slots=True)
class PlateRead:
    """One plate read from an image: the text, its confidence (0–1), colour, corners and rectified crop."""

    text: str
    confidence: float
    color: PlateColor
    valid: bool
    corners: tuple[tuple[float, float], ...] = ()
    crop: Image | None = field(default=None, compare=False, repr=False)


class PlateReader(ABC):
    """Reads every plate in an image, best first."""

    name: ClassVar[str]
    Options: ClassVar[type[ProviderOptions]] = ProviderOptions

    @abstractmethod
    def read(self, image: Image) -> list[PlateRead]:
        """Plates found in a BGR image, most confident first; raises VisionError subclasses only."""
