"""Reading a SiteLens run folder (Docs/ModelFiles.md defines the files)."""

import json
import os
import struct
import zlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

# The names a run folder uses (Sources/Basics/RunFolder.swift owns them).
MODEL_FOLDER = "model"
MEMBER_PREFIX = "member-"
WEIGHTS_SUFFIX = ".safetensors"
DESCRIPTION_SUFFIX = ".json"
RUN_RECORD = "run.json"
PREDICTIONS = "predictions.csv"
CONTRIBUTIONS = "contributions.xyz"

# A header larger than this is not one SiteLens wrote (a model of 2^27 parameters has a few
# dozen tensors); the bound keeps a damaged length from asking for gigabytes.
_LARGEST_HEADER = 100 * 1024 * 1024

_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I32": "<i4", "I64": "<i8", "U8": "u1"}


class ModelFileError(ValueError):
    """A run folder or model file that cannot be read; the message names the file."""


def read_safetensors(path, use_package=True):
    """The tensors of a safetensors file as {name: numpy array} and its string metadata.

    Uses the `safetensors` package when it is installed, else reads the format itself: an 8-byte
    little-endian header length, a JSON header giving each tensor's dtype, shape and
    data_offsets (relative to the data), then the raw little-endian data. `use_package=False`
    always reads it here.
    """
    with open(path, "rb") as handle:
        data = handle.read()
    if len(data) < 8:
        raise ModelFileError(f"{path}: {len(data)} bytes, too short for a safetensors header")
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > min(_LARGEST_HEADER, len(data) - 8):
        raise ModelFileError(f"{path}: the header length {header_length} runs past the end of the {len(data)}-byte file")
    try:
        header = json.loads(data[8:8 + header_length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"{path}: the header is not JSON ({error})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: the header is not a JSON object")
    metadata = header.pop("__metadata__", {}) or {}
    recorded = metadata.get("data_crc32") if isinstance(metadata, dict) else None
    if recorded is not None:
        computed = format(zlib.crc32(memoryview(data)[8 + header_length:]) & 0xFFFFFFFF, "08x")
        if computed != recorded:
            raise ModelFileError(f"{path}: the tensor data's CRC-32 is {computed} but the file records {recorded}: the file is damaged")
    load_file = None
    if use_package:
        try:
            from safetensors.numpy import load_file
        except ImportError:
            pass
    if load_file is not None:
        return dict(load_file(path)), metadata
    body = memoryview(data)[8 + header_length:]
    tensors = {}
    for name, entry in header.items():
        try:
            dtype = np.dtype(_DTYPES[entry["dtype"]])
            shape = [int(d) for d in entry["shape"]]
            begin, end = (int(o) for o in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ModelFileError(f"{path}: tensor '{name}' needs a known dtype, a shape and two data_offsets") from None
        count = int(np.prod(shape, dtype=np.int64))
        if not (0 <= begin <= end <= len(body)) or end - begin != count * dtype.itemsize:
            raise ModelFileError(f"{path}: tensor '{name}' data_offsets [{begin}, {end}] do not fit its shape {shape} in the data")
        tensors[name] = np.frombuffer(body[begin:end], dtype=dtype).reshape(shape).copy()
    return tensors, metadata


@dataclass
class Member:
    """One trained member: its description (`member-K.json`, as parsed JSON) and its weights."""

    index: int
    description: dict
    weights: Dict[str, np.ndarray]
    metadata: Dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """`sites`, `ryczko` or `atomic`."""
        return self.description["architecture"]["kind"]

    @property
    def architecture(self) -> dict:
        return self.description["architecture"]

    @property
    def layers(self) -> List[dict]:
        """The layers, each as {"type": "dense"|"conv"|"flatten", ...its fields}, with the names
        of its tensors (`kernel`, `bias`) where it has them (`layer{i}.dense.kernel`, ...)."""
        result = []
        for index, spec in enumerate(self.architecture["layers"]):
            (kind, fields), = spec.items()
            layer = {"type": kind, **(fields or {})}
            for part in ("kernel", "bias"):
                name = f"layer{index}.{kind}.{part}"
                if name in self.weights:
                    layer[part] = name
            result.append(layer)
        return result

    @property
    def normalisation(self) -> dict:
        """{"mean": ..., "scale": ...}: a prediction is scale · Σ f(item) + mean (Docs/ModelFiles.md)."""
        return self.description["normalisation"]


@dataclass
class Run:
    """A finished run: its record (`run.json`, parsed) and its members in order."""

    path: str
    record: Optional[dict]
    members: List[Member]

    @property
    def kind(self) -> str:
        return self.members[0].kind


def load_run(path) -> Run:
    """The members of the run folder `path` (`model/member-K.safetensors` + `.json`), their
    architectures and weights as NumPy arrays, and the run record when there is one."""
    path = os.fspath(path)
    folder = os.path.join(path, MODEL_FOLDER)
    if not os.path.isdir(folder):
        raise ModelFileError(f"{path}: no '{MODEL_FOLDER}' folder; is it a SiteLens run folder?")
    indices = []
    for name in os.listdir(folder):
        stem = name[len(MEMBER_PREFIX):-len(WEIGHTS_SUFFIX)] if name.startswith(MEMBER_PREFIX) and name.endswith(WEIGHTS_SUFFIX) else ""
        if stem.isdigit():
            indices.append(int(stem))
    if not indices:
        raise ModelFileError(f"{folder}: holds no {MEMBER_PREFIX}K{WEIGHTS_SUFFIX}")
    members = []
    for index in sorted(indices):
        base = os.path.join(folder, f"{MEMBER_PREFIX}{index}")
        with open(base + DESCRIPTION_SUFFIX, encoding="utf-8") as handle:
            description = json.load(handle)
        if description.get("format") != "sitelens-model":
            raise ModelFileError(f"{base + DESCRIPTION_SUFFIX}: field 'format' is {description.get('format')!r}; expected 'sitelens-model'")
        weights, metadata = read_safetensors(base + WEIGHTS_SUFFIX)
        members.append(Member(index=index, description=description, weights=weights, metadata=metadata))
    record = None
    record_path = os.path.join(path, RUN_RECORD)
    if os.path.exists(record_path):
        with open(record_path, encoding="utf-8") as handle:
            record = json.load(handle)
    return Run(path=path, record=record, members=members)
