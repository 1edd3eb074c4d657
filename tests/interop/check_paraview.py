"""Opens tessera's outputs with ParaView's own readers (run by pvbatch; interop proof only).

usage: pvbatch check_paraview.py <screenshot_dir> <kind>=<path> ...
  kinds: xmf (XDMF3: Xdmf3ReaderS, Xdmf3ReaderT and the legacy XDMF reader), pvd, vtu, pvtu.
Each file is checked for points, cells, time steps and point-array names against what the
others say (the first reader of a file is the reference for the rest); a screenshot of each is
saved. Any reader failure (ParaView 5.11 aborted on tessera's XDMF before the deck moved into
the Information element's Value attribute) fails the test.
"""
import os
import sys

from paraview import simple as pv

out_dir, specs = sys.argv[1], sys.argv[2:]
os.makedirs(out_dir, exist_ok=True)
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def describe(reader):
    reader.UpdatePipeline(reader.TimestepValues[0] if reader.TimestepValues else 0.0)
    info = reader.GetDataInformation()
    arrays = sorted(reader.PointData.keys())
    steps = list(reader.TimestepValues) if reader.TimestepValues else []
    return info.GetNumberOfPoints(), info.GetNumberOfCells(), len(steps), arrays


def readers_for(kind, path):
    if kind == "xmf":
        return [("Xdmf3ReaderS", lambda: pv.Xdmf3ReaderS(FileName=[path])),
                ("Xdmf3ReaderT", lambda: pv.Xdmf3ReaderT(FileName=[path])),
                ("XDMFReader", lambda: pv.XDMFReader(FileNames=[path]))]
    if kind in ("pvd", "vtu", "pvtu"):
        return [(kind, lambda: pv.OpenDataFile(path))]
    raise SystemExit(f"unknown kind {kind}")


def steps_in_file(kind, path):
    """Time steps the file lists, counted in its text (the reference for the readers)."""
    text = open(path).read()
    if kind == "xmf":
        return text.count("<Time Value")
    if kind == "pvd":
        return text.count("<DataSet")
    return 0


for spec in specs:
    kind, path = spec.split("=", 1)
    check(os.path.exists(path), f"{path} exists")
    expected_steps = steps_in_file(kind, path)
    reference = None
    for name, make in readers_for(kind, path):
        try:
            reader = make()
            points, cells, steps, arrays = describe(reader)
        except Exception as e:  # a reader that aborts the process fails the test anyway
            check(False, f"{name} opens {path}: {e}")
            continue
        check(points > 0 and cells > 0, f"{name} reads {path}: {points} points, {cells} cells, {steps} steps, "
              f"arrays {arrays}")
        if expected_steps > 1 and name != "XDMFReader":  # the legacy reader has its own notion of time
            check(steps == expected_steps, f"{name} sees the {expected_steps} time steps the file lists (got {steps})")
        # Every step's arrays are read (a continued run's series refer to earlier runs' files in
        # other folders by relative path); at most 7 steps, spread over the series.
        # A velocity where there is one (node_type, first in the alphabet, is in the mesh file).
        times = list(getattr(reader, "TimestepValues", None) or [])
        read = next((a for a in arrays if a.startswith("velocity")), arrays[0] if arrays else None)
        if len(times) > 1 and arrays:
            picked = [times[round(k * (len(times) - 1) / 6)] for k in range(7)] if len(times) > 7 else times
            unread = []
            for t in dict.fromkeys(picked):
                reader.UpdatePipeline(t)
                data = pv.servermanager.Fetch(reader)
                if data.IsA("vtkMultiBlockDataSet") or data.IsA("vtkPartitionedDataSetCollection"):
                    data = data.GetBlock(0)
                values = data.GetPointData().GetArray(read) if data is not None else None
                if values is None or values.GetNumberOfTuples() != data.GetNumberOfPoints():
                    unread.append(t)
            check(not unread, f"{name} reads '{read}' at each of {len(set(picked))} steps of {path}"
                  + (f" (not at t = {unread})" if unread else ""))
        if reference is None:
            check(len(arrays) > 0, f"{name} sees point arrays in {path}")
            reference = (points, cells, steps, arrays)
        else:
            # The legacy XDMF reader reports no time steps for a one-step series; compare the rest.
            check((points, cells) == reference[:2], f"{name} agrees with the first reader on points and cells")
            check(set(arrays) == set(reference[3]), f"{name} sees the same point arrays ({arrays} against "
                  f"{reference[3]})")
        view = pv.CreateRenderView()
        view.ViewSize = [480, 240]
        display = pv.Show(reader, view)
        if arrays:
            # A velocity where there is one, at the last step (the alphabetically first array of a
            # rollout is its error, zero everywhere at t = 0: the picture was uniform), in the
            # range of its values.
            shown = next((a for a in arrays if a.startswith("velocity")), arrays[0])
            times = list(getattr(reader, "TimestepValues", None) or [])
            if times:
                view.ViewTime = times[-1]
            pv.ColorBy(display, ("POINTS", shown))
            display.RescaleTransferFunctionToDataRange(False, False)
        pv.ResetCamera(view)
        shot = os.path.join(out_dir, f"{os.path.basename(path)}.{name}.png")
        pv.SaveScreenshot(shot, view)
        check(os.path.getsize(shot) > 1000, f"screenshot {shot}")
        pv.Delete(display)
        pv.Delete(view)
        pv.Delete(reader)

print(f"{len(failures)} failed" if failures else "all ParaView checks passed")
sys.exit(1 if failures else 0)
