#!/usr/bin/env python3
"""Reader and writer of isbench checkpoints (.isbc, docs/checkpoint-format.md), so weights, batches
and gradient dumps move between isbench and other frameworks. Standard library only; tensors come
back as numpy arrays when numpy is installed, else as (shape, flat list).

    python3 docs/isbc.py list FILE            # names, dtypes, shapes
    python3 docs/isbc.py check-torch FILE     # compare an `isbench step` dump with PyTorch

In Python:
    import isbc
    t = isbc.read("step.isbc")                # {name: array}
    isbc.write("batch.isbc", {"x": x_f32_nchw, "labels": labels_i64})
"""
import struct
import sys
import zlib

MAGIC, VERSION, ALIGN = b"ISBC", 2, 64  # version 2 ends with a crc32 of all bytes before it
F32, I64 = 1, 2
_FMT = {F32: ("f", 4), I64: ("q", 8)}

try:
    import numpy as np
except ImportError:  # plain lists then
    np = None


def read(path):
    """Returns {name: numpy array} (or {name: (shape, list)} without numpy); raises ValueError on a bad file."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 12 or buf[:4] != MAGIC:
        raise ValueError(f"{path}: not an isbench checkpoint (wrong magic)")
    version, count = struct.unpack_from("<II", buf, 4)
    if version not in (1, VERSION):
        raise ValueError(f"{path}: unsupported version {version}")
    if version >= 2:
        if len(buf) < 16:
            raise ValueError(f"{path}: truncated (no room for the checksum)")
        (stored,) = struct.unpack_from("<I", buf, len(buf) - 4)
        buf = buf[:-4]
        if zlib.crc32(buf) != stored:
            raise ValueError(f"{path}: corrupt (crc32 mismatch)")
    pos, out = 12, {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<I", buf, pos)
        name = buf[pos + 4:pos + 4 + name_len].decode()
        pos += 4 + name_len
        dtype, ndim = struct.unpack_from("<II", buf, pos)
        dims = struct.unpack_from(f"<{ndim}q", buf, pos + 8)
        offset, nbytes = struct.unpack_from("<QQ", buf, pos + 8 + 8 * ndim)
        pos += 8 + 8 * ndim + 16
        code, size = _FMT[dtype]
        numel = 1
        for d in dims:
            numel *= d
        if nbytes != numel * size or offset + nbytes > len(buf):
            raise ValueError(f"{path}: tensor {name} is inconsistent or truncated")
        if np is not None:
            arr = np.frombuffer(buf, dtype="<f4" if dtype == F32 else "<i8", count=numel, offset=offset)
            out[name] = arr.reshape(dims).copy()
        else:
            out[name] = (tuple(dims), list(struct.unpack_from(f"<{numel}{code}", buf, offset)))
    return out


def _as_tensor(value):
    """(dtype, dims, little-endian bytes) of a numpy array, a (shape, list) pair, or a Python scalar."""
    if np is not None and isinstance(value, np.ndarray):
        is_int = np.issubdtype(value.dtype, np.integer)
        arr = np.ascontiguousarray(value, dtype="<i8" if is_int else "<f4")
        return (I64 if is_int else F32), arr.shape, arr.tobytes()
    if isinstance(value, tuple):
        dims, flat = value
    else:
        dims, flat = (), [value]
    is_int = all(isinstance(v, int) for v in flat)
    code = "q" if is_int else "f"
    return (I64 if is_int else F32), tuple(dims), struct.pack(f"<{len(flat)}{code}", *flat)


def write(path, tensors):
    """Writes {name: array} (integer arrays as i64, everything else as f32)."""
    items = [(name.encode(),) + _as_tensor(v) for name, v in tensors.items()]
    table = sum(4 + len(n) + 8 + 8 * len(d) + 16 for n, _, d, _ in items)
    header = bytearray(MAGIC + struct.pack("<II", VERSION, len(items)))
    data, at = bytearray(), 12 + table
    for name, dtype, dims, raw in items:
        pad = (-at) % ALIGN
        data += b"\0" * pad
        at += pad
        header += struct.pack("<I", len(name)) + name + struct.pack("<II", dtype, len(dims))
        header += struct.pack(f"<{len(dims)}q", *dims) + struct.pack("<QQ", at, len(raw))
        data += raw
        at += len(raw)
    body = bytes(header) + bytes(data)
    with open(path, "wb") as f:
        f.write(body + struct.pack("<I", zlib.crc32(body)))


def check_torch(path):
    """Re-runs an `isbench step` dump in PyTorch (torch_anchor.py's model, fp32 on the CPU) and prints
    the normalised differences of the loss, logits, every gradient and the parameters after SGD.
    torch_anchor.py is looked for in $ISB_TORCH_ANCHOR_DIR, beside this script and in ../shared/reference.
    Returns the worst normalised error."""
    import os
    import torch
    import torch.nn.functional as F
    here = os.path.dirname(os.path.abspath(__file__))
    for d in (os.environ.get("ISB_TORCH_ANCHOR_DIR"), here, os.path.join(here, "../../shared/reference"),
              os.path.join(here, "../shared/reference")):
        if d and os.path.exists(os.path.join(d, "torch_anchor.py")):
            sys.path.insert(0, d)
            break
    from torch_anchor import ResNet18
    t = read(path)
    cfg = {k[7:]: v.item() for k, v in t.items() if k.startswith("config/")}
    m = ResNet18(int(cfg["width"]), int(cfg["classes"]), int(cfg["in_channels"]))
    m.load_state_dict({k: torch.from_numpy(v) for k, v in t.items() if k in m.state_dict()}, strict=True)
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=cfg["lr"], momentum=cfg["momentum"], weight_decay=cfg["weight_decay"])
    x, y = torch.from_numpy(t["x"]), torch.from_numpy(t["labels"])
    w = torch.from_numpy(t["weights"]) if "weights" in t else torch.ones(len(y))
    logits = m(x)
    losses = F.cross_entropy(logits, y, reduction="none")
    loss = (losses * w).mean()
    loss.backward()

    def rel(ours, theirs):
        theirs = theirs.detach().double()
        return float((torch.from_numpy(ours).double() - theirs).norm() / max(float(theirs.norm()), 1e-30))

    errors = {"loss": rel(t["loss"], loss), "losses": rel(t["losses"], losses), "logits": rel(t["logits"], logits)}
    for n, p in m.named_parameters():
        errors["grad/" + n] = rel(t["grad/" + n], p.grad)
    opt.step()
    for n, p in m.named_parameters():
        errors["after/" + n] = rel(t["after/" + n], p)
    print(f"loss: isbench {float(t['loss']):.6f}, torch {loss.item():.6f}")
    for key in ("loss", "losses", "logits"):
        print(f"  {key:8s} normalised error {errors[key]:.2e}")
    for prefix in ("grad/", "after/"):
        worst = max((e, k) for k, e in errors.items() if k.startswith(prefix))
        print(f"  {prefix:8s} worst normalised error {worst[0]:.2e} ({worst[1]}) over {sum(k.startswith(prefix) for k in errors)} tensors")
    return max(errors.values())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "list":
        for name, v in read(sys.argv[2]).items():
            shape, kind = (v.shape, v.dtype) if np is not None else (v[0], "")
            print(f"{name:40s} {str(kind):8s} {list(shape)}")
    elif len(sys.argv) == 3 and sys.argv[1] == "check-torch":
        worst = check_torch(sys.argv[2])
        sys.exit(0 if worst < 1e-3 else 1)  # fp32 on both sides: far below 1e-3 when they agree
    else:
        print(__doc__)
        sys.exit(2)
