# SPDX-License-Identifier: Apache-2.0
"""QGIS (Debian's python3-qgis, offscreen) as a client of `kadastr serve`: the browser lists the
four collections as its "Add layer" dialog would, each opens as a valid OAPIF layer with the
register's count of features (paged through next links), every parcel's number arrives whole
in the id field (no field holds a value cut to a time, no field is typed as a time or date),
and every parcel's geometry is that of `kadastr export` within 1e-7 degrees (Hausdorff).

usage: qgis_oapif.py BASE_URL INFO_JSON EXPORT_GPKG
  BASE_URL     the server, e.g. http://127.0.0.1:8080
  INFO_JSON    the output of `kadastr info DB --json` (the live counts)
  EXPORT_GPKG  `kadastr export DB FILE --crs EPSG:4326` of the same register

Prints one line per failure and "N checks, M failures"; exit status 0 when all pass."""
import json
import re
import sys

from qgis.core import QgsApplication, QgsSettings, QgsVectorLayer
from qgis.PyQt.QtCore import QVariant

COLLECTIONS = ["parcels", "zones", "restrictions", "admin_units"]
CUT = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")  # what a cadastral number becomes when read as a time
TOL_DEG = 1e-7

checks = 0
failures = 0


def check(what, good, detail=""):
    global checks, failures
    checks += 1
    if not good:
        failures += 1
        print(f"FAIL: {what}{': ' + str(detail) if detail else ''}")


def browser_collections(base):
    """The collections as QGIS's browser (and its Add layer dialog) lists them: (typename, name)."""
    settings = QgsSettings()
    settings.setValue("qgis/connections-wfs/kadastr/url", base)
    settings.setValue("qgis/connections-wfs/kadastr/version", "OGC_API_FEATURES")
    provider = next(p for p in QgsApplication.dataItemProviderRegistry().providers()
                    if p.name() == "WFS")
    root = provider.createDataItem("", None)
    out = []
    for conn in root.createChildren():
        if conn.name() != "kadastr":
            continue
        for item in conn.createChildren():
            m = re.search(r"typename='([^']*)'", item.uri())
            out.append((m.group(1) if m else item.uri(), item.name(), item.providerKey()))
    return out


def run_checks(base, info_path, export_path):
    with open(info_path) as f:
        info = json.load(f)
    want_count = {"parcels": info["parcels_live"], "zones": info["zones"],
                  "restrictions": info["restrictions"], "admin_units": info["admin_units"]}
    QgsSettings().setValue("qgis/networkAndProxy/networkTimeout", 20000)

    listed = browser_collections(base)
    check("the browser lists the four collections", [t for t, _, _ in listed] == COLLECTIONS,
          listed)
    check("each listed as an OAPIF layer", all(p == "OAPIF" for _, _, p in listed), listed)

    exported = {}
    ex = QgsVectorLayer(f"{export_path}|layername=parcels", "export", "ogr")
    check("the export opens", ex.isValid())
    for f in ex.getFeatures():
        exported[f["cadastral_number"]] = f.geometry()
    check("the export holds the live parcels", len(exported) == want_count["parcels"],
          len(exported))

    for c in COLLECTIONS:
        layer = QgsVectorLayer(f"url='{base}' typename='{c}'", c, "OAPIF")
        check(f"{c}: a valid layer", layer.isValid(), layer.dataProvider().error().message()
              if layer.dataProvider() else "no provider")
        if not layer.isValid():
            continue
        fields = layer.fields()
        typed_time = [fl.name() for fl in fields if fl.type() in (QVariant.Time, QVariant.Date)]
        check(f"{c}: no field typed as a time or date", not typed_time, typed_time)
        strings = [fl.name() for fl in fields if fl.type() == QVariant.String]
        n = 0
        cut = []
        ids = []
        far = []
        worst = 0.0
        for f in layer.getFeatures():
            n += 1
            for name in strings:
                v = f[name]
                if isinstance(v, str) and CUT.match(v):
                    cut.append((name, v))
            if c == "parcels":
                number = f["id"]
                ids.append(number)
                g = exported.get(number)
                if g is None:
                    continue
                d = f.geometry().hausdorffDistance(g)
                worst = max(worst, d)
                if not d <= TOL_DEG:
                    far.append((number, d))
        check(f"{c}: the register's count (featureCount)", layer.featureCount() == want_count[c],
              f"{layer.featureCount()} != {want_count[c]}")
        check(f"{c}: the register's count (features read)", n == want_count[c],
              f"{n} != {want_count[c]}")
        check(f"{c}: no field holds a value cut to a time", not cut, cut[:5])
        if c == "parcels":
            check("parcels: the id field is a string", fields.field("id").type() == QVariant.String,
                  fields.field("id").typeName())
            check("parcels: every number once", len(set(ids)) == len(ids), len(ids) - len(set(ids)))
            missing = sorted(set(exported) - set(ids))
            extra = sorted(set(ids) - set(exported))
            check("parcels: the numbers are the export's, whole", not missing and not extra,
                  f"missing {missing[:3]}, unknown {extra[:3]}")
            check(f"parcels: geometries within {TOL_DEG} degrees of the export", not far, far[:3])
            print(f"parcels: {n} features, the farthest vertex {worst:.2e} degrees from the export")


def main():
    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    # the layers, items and geometries are gone with run_checks' frame: QGIS crashes on exit
    # when one outlives exitQgis
    run_checks(*sys.argv[1:4])
    print(f"{checks} checks, {failures} failures")
    app.exitQgis()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
