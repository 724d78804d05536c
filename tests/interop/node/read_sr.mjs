// Read a TID 1500 SR with dcmjs and print, as JSON on stdout, what OHIF would draw of it and
// what the Cornerstone3D SR adapter rehydrates as editable tools.
//
//   node tests/interop/node/read_sr.mjs SR.dcm
//
// {
//   "ohif": [ one per measurement OHIF draws:
//     { "tracking_uid", "tracking_identifier", "sop_instance_uid", "frame",
//       "coords": [ { "value_type", "graphic_type", "points": [[x, y], ...],
//                     "sop_instance_uid", "frame" }, ... ] } ],
//   "ohif_skipped": [ tracking UIDs of merged groups OHIF draws nothing for ],
//   "rehydrated": { "<toolType>": [ { "tracking_uid", "sop_instance_uid", "frame",
//                                    "points": [[x, y], ...], "label" } ] },
//   "rehydrate_error": null or the message if generateToolState threw
// }
//
// "ohif" replicates the measurement extraction of OHIF's SR loader, extension
// cornerstone-dicom-sr, file extensions/cornerstone-dicom-sr/src/getSopClassHandlerModule.ts
// of github.com/OHIF/Viewers (read at commit cccb0bfeea83387fe8588850ee19b14bed88960a and in
// its later form with _firstConcept / isTextPosition; both behave the same on these points):
//   _getMeasurements: the Measurement Groups (125007, DCM) of "Imaging Measurements" (126010);
//   _getMergedContentSequencesByTrackingUniqueIdentifiers: the content items of every group
//     with the same Tracking Unique Identifier (112040) are concatenated into one list
//     (groups without one are skipped);
//   _processMeasurement: if the merged list holds a SCOORD/SCOORD3D (other than the
//     Cornerstone text-position point) it is a "TID 1410" measurement and only the FIRST such
//     item is drawn (coords = [that item]); otherwise each NUM's INFERRED FROM SCOORD (the
//     NUM's ContentSequence read as ONE item: a NUM whose ContentSequence holds more than
//     the SCOORD gives none) is one coord (_processNonGeometricallyDefinedMeasurement);
//   _checkIfCanAddMeasurementsToDisplaySet / addSRAnnotation: the measurement is placed on the
//     image (and frame, default 1) of coords[0] and every coord is drawn there. A measurement
//     without coords is listed in "ohif_skipped" (OHIF reads coords[0] of it and throws).
// "rehydrated" is MeasurementReport.generateToolState of @cornerstonejs/adapters (what OHIF's
// hydrateStructuredReport calls), its world coordinates turned back into image coordinates.

import { adaptersSR, metaData, readDataset, registerImage, toImage } from "./common.mjs";

const DCM = "DCM";
const IMAGING_MEASUREMENTS = "126010";
const MEASUREMENT_GROUP = "125007";
const TRACKING_UNIQUE_IDENTIFIER = "112040";
const TRACKING_IDENTIFIER = "112039";
const TEXT_POSITION = { value: "TextPosition", scheme: "99CS3D" };

const asArray = (value) => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);
const first = (value) => asArray(value)[0];
// What OHIF sees of a sequence it reads as one item (item.ContentSequence.ValueType ...):
// naturalizeDataset gives single-item sequences the item's properties, longer ones none.
const asOneItem = (value) => (Array.isArray(value) ? (value.length === 1 ? value[0] : {}) : (value ?? {}));
const concept = (item) => first(item?.ConceptNameCodeSequence);
const isScoord = (item) => item.ValueType === "SCOORD" || item.ValueType === "SCOORD3D";
const isTextPosition = (item) => {
  const name = concept(item);
  return name?.CodeValue === TEXT_POSITION.value && name?.CodingSchemeDesignator === TEXT_POSITION.scheme;
};

function points(item) {
  const size = item.ValueType === "SCOORD3D" ? 3 : 2;
  const data = asArray(item.GraphicData).map(Number);
  const result = [];
  for (let i = 0; i + size <= data.length; i += size) {
    result.push(data.slice(i, i + size));
  }
  return result;
}

function coord(item) {
  const reference = asOneItem(asOneItem(item.ContentSequence).ReferencedSOPSequence);
  return {
    value_type: item.ValueType,
    graphic_type: item.GraphicType,
    points: points(item),
    sop_instance_uid: reference?.ReferencedSOPInstanceUID ?? null,
    frame: Number(first(reference?.ReferencedFrameNumber) ?? 1),
  };
}

function ohifMeasurements(dataset) {
  const imaging = asArray(dataset.ContentSequence).find(
    (item) => concept(item)?.CodeValue === IMAGING_MEASUREMENTS && concept(item)?.CodingSchemeDesignator === DCM,
  );
  const groups = asArray(imaging?.ContentSequence).filter((item) => concept(item)?.CodeValue === MEASUREMENT_GROUP);
  const merged = new Map();
  for (const group of groups) {
    const content = asArray(group.ContentSequence);
    const uidItem = content.find((item) => concept(item)?.CodeValue === TRACKING_UNIQUE_IDENTIFIER);
    if (!uidItem?.UID) {
      continue;
    }
    if (!merged.has(uidItem.UID)) {
      merged.set(uidItem.UID, [...content]);
    } else {
      merged.get(uidItem.UID).push(...content.filter((item) => concept(item)?.CodeValue !== TRACKING_UNIQUE_IDENTIFIER));
    }
  }
  const drawn = [];
  const skipped = [];
  for (const [uid, content] of merged) {
    const identifier = content.find((item) => concept(item)?.CodeValue === TRACKING_IDENTIFIER)?.TextValue ?? null;
    let coords;
    if (content.some((item) => isScoord(item) && !isTextPosition(item))) {
      coords = [coord(content.find(isScoord))];
    } else {
      coords = content
        .filter((item) => item.ValueType === "NUM")
        .map((num) => asOneItem(num.ContentSequence))
        .filter((item) => isScoord(item) && asArray(item.GraphicData).length)
        .map(coord);
    }
    if (!coords.length || !coords[0].sop_instance_uid) {
      skipped.push(uid);
      continue;
    }
    drawn.push({
      tracking_uid: uid,
      tracking_identifier: identifier,
      sop_instance_uid: coords[0].sop_instance_uid,
      frame: coords[0].frame,
      coords,
    });
  }
  return { drawn, skipped };
}

/** Register every image an SCOORD of the SR selects from; return SOP:frame -> image id. */
function referencedImages(dataset) {
  const map = {};
  const walk = (items) => {
    for (const item of asArray(items)) {
      if (item.ValueType === "IMAGE") {
        for (const reference of asArray(item.ReferencedSOPSequence)) {
          for (const frame of asArray(reference.ReferencedFrameNumber ?? 1).map(Number)) {
            const key = `${reference.ReferencedSOPInstanceUID}:${frame}`;
            map[key] ??= registerImage({ SOPInstanceUID: reference.ReferencedSOPInstanceUID }, frame);
          }
        }
      }
      walk(item.ContentSequence);
    }
  };
  walk(dataset.ContentSequence);
  return map;
}

function rehydrate(dataset, sopInstanceUIDToImageIdMap) {
  const { MeasurementReport } = adaptersSR.Cornerstone3D;
  const state = MeasurementReport.generateToolState(dataset, sopInstanceUIDToImageIdMap, metaData);
  const result = {};
  for (const [toolType, measurements] of Object.entries(state)) {
    result[toolType] = measurements.map((measurement) => {
      const annotation = measurement.annotation;
      const imageId = annotation?.metadata?.referencedImageId;
      const [sop, frame] = imageId ? imageId.replace(/^galactoview:/, "").split(":") : [null, null];
      const handles = annotation?.data?.handles?.points ?? [];
      const contour = annotation?.data?.contour?.polyline;
      const world = contour?.length ? contour : handles;
      return {
        tracking_uid: measurement.TrackingUniqueIdentifier ?? null,
        sop_instance_uid: sop,
        frame: frame === null ? null : Number(frame),
        points: imageId ? world.map((point) => toImage(imageId, Array.from(point))) : world.map((p) => Array.from(p)),
        label: annotation?.data?.label ?? annotation?.data?.text ?? null,
      };
    });
  }
  return result;
}

const path = process.argv[2];
if (!path) {
  process.stderr.write("usage: node read_sr.mjs SR.dcm\n");
  process.exit(2);
}
const dataset = readDataset(path);
const { drawn, skipped } = ohifMeasurements(dataset);
let rehydrated = {};
let rehydrateError = null;
try {
  rehydrated = rehydrate(dataset, referencedImages(dataset));
} catch (error) {
  rehydrateError = String(error?.message ?? error);
}
process.stdout.write(
  `${JSON.stringify({ ohif: drawn, ohif_skipped: skipped, rehydrated, rehydrate_error: rehydrateError }, null, 1)}\n`,
);
