// Write OHIF-style TID 1500 SRs with the Cornerstone3D adapter's MeasurementReport (what OHIF
// stores), marks on the bundled sample ductogram, and marks.json: the tool states used.
//
//   node tests/interop/node/generate.mjs [SAMPLE_STUDY_DIR] [OUT_DIR]
//
// Defaults: sample_data/dicom/20260312_DUCTOGRAM_L and tests/interop/node/fixtures. The
// output is deterministic (UIDs derived from a counter, fixed dates), so regenerating with the
// pinned packages gives the same bytes.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { adaptersSR, dcmjs, metaData, readHeader, registerImage, toWorld } from "./common.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const studyDir = resolve(process.argv[2] ?? join(root, "sample_data/dicom/20260312_DUCTOGRAM_L"));
const outDir = resolve(process.argv[3] ?? join(here, "fixtures"));

const { MeasurementReport } = adaptersSR.Cornerstone3D;
const { DicomMetaDictionary, datasetToDict } = dcmjs.data;

// Deterministic UIDs: 2.25.<decimal of 120 bits of SHA-256 of a counter>.
let counter = 0;
DicomMetaDictionary.uid = () => {
  counter += 1;
  const digest = createHash("sha256").update(`galactoview dcmjs fixture ${counter}`).digest("hex");
  return `2.25.${BigInt(`0x${digest.slice(0, 30)}`)}`;
};

const version = (name) =>
  JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8")).version;

// The marks: image coordinates (column, row) of the tool's handles on the sample images.
// Half-integers and integers only, so float32 GraphicData keeps them exactly.
const INTRALUMINAL_FILLING_DEFECT = {
  CodeValue: "111425",
  CodingSchemeDesignator: "DCM",
  CodeMeaning: "Intraluminal filling defect",
};
const MARKS = [
  { id: "Length-1", tool: "Length", image: "01_LCC_PRE", points: [[100, 120], [200, 220]] },
  { id: "Length-2", tool: "Length", image: "03_LCC_POST", points: [[410.5, 300], [520, 388.5]] },
  { id: "Probe-1", tool: "Probe", image: "05_LCC_MAG_POST", points: [[250, 260]] },
  { id: "Probe-2", tool: "Probe", image: "02_LML_PRE", points: [[333, 444]] },
  // EllipticalROI handles: top, bottom, left, right ends of the axes.
  {
    id: "EllipticalROI-1",
    tool: "EllipticalROI",
    image: "02_LML_PRE",
    points: [[200, 150], [200, 250], [100, 200], [300, 200]],
  },
  {
    id: "EllipticalROI-2",
    tool: "EllipticalROI",
    image: "04_LML_POST",
    points: [[500, 400], [500, 600], [450, 500], [550, 500]],
  },
  // CircleROI handles: centre, a point on the circle.
  { id: "CircleROI-1", tool: "CircleROI", image: "02_LML_PRE", points: [[400, 400], [450, 400]] },
  { id: "CircleROI-2", tool: "CircleROI", image: "05_LCC_MAG_POST", points: [[600, 300], [600, 340]] },
  // RectangleROI handles: top-left, top-right, bottom-left, bottom-right.
  {
    id: "RectangleROI-1",
    tool: "RectangleROI",
    image: "04_LML_POST",
    points: [[300, 300], [400, 300], [300, 380], [400, 380]],
  },
  {
    id: "RectangleROI-2",
    tool: "RectangleROI",
    image: "01_LCC_PRE",
    points: [[700, 800], [820, 800], [700, 900], [820, 900]],
  },
  // ArrowAnnotate handles: the arrow's head, then its tail (arrowFirst), and its text.
  {
    id: "ArrowAnnotate-1",
    tool: "ArrowAnnotate",
    image: "03_LCC_POST",
    points: [[300, 310], [360, 370]],
    text: "Filling defect here?",
  },
  {
    id: "ArrowAnnotate-2",
    tool: "ArrowAnnotate",
    image: "05_LCC_MAG_POST",
    points: [[900, 1000], [950, 1080]],
    text: "Duct cut-off",
  },
  // PlanarFreehandROI: the contour, closed (the adapter repeats the first point) or open.
  {
    id: "PlanarFreehandROI-1",
    tool: "PlanarFreehandROI",
    image: "04_LML_POST",
    points: [[100, 100], [150, 90], [200, 130], [160, 200]],
    closed: true,
  },
  {
    id: "PlanarFreehandROI-2",
    tool: "PlanarFreehandROI",
    image: "01_LCC_PRE",
    points: [[400, 400], [430, 460], [470, 500], [520, 530]],
    closed: false,
  },
  // Bidirectional handles: the long axis' ends, then the short axis' ends.
  {
    id: "Bidirectional-1",
    tool: "Bidirectional",
    image: "03_LCC_POST",
    points: [[100, 100], [200, 200], [170, 130], [130, 170]],
  },
  {
    id: "Bidirectional-2",
    tool: "Bidirectional",
    image: "02_LML_PRE",
    points: [[800, 600], [800, 760], [760, 680], [840, 680]],
    finding: INTRALUMINAL_FILLING_DEFECT,
  },
];

const headers = {};
const imageIds = {};
for (const stem of new Set(MARKS.map((mark) => mark.image))) {
  headers[stem] = readHeader(join(studyDir, `${stem}.dcm`));
  imageIds[stem] = registerImage(headers[stem]);
}

const distance = ([ax, ay], [bx, by]) => Math.hypot(ax - bx, ay - by);

/** The Cornerstone3D annotation of a mark, as the tool holds it (world coordinates). */
function annotation(mark) {
  const imageId = imageIds[mark.image];
  const world = mark.points.map((point) => toWorld(imageId, point));
  const data = { handles: { points: world, textBox: { hasMoved: false } }, cachedStats: {} };
  const stats = {};
  // Sizes as the tool computes them: in world coordinates (mm on the image's spacing).
  const p = world.map(([x, y]) => [x, y]);
  switch (mark.tool) {
    case "Length":
      Object.assign(stats, { length: distance(p[0], p[1]), unit: "mm" });
      break;
    case "Bidirectional":
      Object.assign(stats, { length: distance(p[0], p[1]), width: distance(p[2], p[3]), unit: "mm" });
      break;
    case "EllipticalROI": {
      const a = distance(p[0], p[1]) / 2;
      const b = distance(p[2], p[3]) / 2;
      Object.assign(stats, { area: Math.PI * a * b, areaUnit: "mm\xB2", mean: 812.5, max: 1000, stdDev: 10 });
      break;
    }
    case "CircleROI": {
      const r = distance(p[0], p[1]);
      Object.assign(stats, {
        area: Math.PI * r * r,
        areaUnit: "mm\xB2",
        radius: r,
        radiusUnit: "mm",
        mean: 700,
        max: 900,
        stdDev: 12,
      });
      break;
    }
    case "RectangleROI": {
      const w = distance(p[0], p[1]);
      const h = distance(p[0], p[2]);
      Object.assign(stats, { area: w * h, perimeter: 2 * (w + h), areaUnit: "mm\xB2", mean: 650, max: 800, stdDev: 9 });
      break;
    }
    case "PlanarFreehandROI":
      data.contour = { polyline: world, closed: mark.closed };
      data.handles.points = [];
      Object.assign(stats, { area: 0, perimeter: 0, areaUnit: "mm\xB2", mean: 600, max: 700, stdDev: 8 });
      break;
    case "ArrowAnnotate":
      data.handles.arrowFirst = true;
      data.text = mark.text;
      data.label = mark.text;
      break;
    default:
      break;
  }
  // Two decimals, as Cornerstone3D shows them (a DS holds at most 16 characters).
  for (const [key, value] of Object.entries(stats)) {
    if (typeof value === "number") stats[key] = Math.round(value * 100) / 100;
  }
  data.cachedStats[`imageId:${imageId}`] = stats;
  const state = {
    annotationUID: `${mark.id}`,
    metadata: {
      toolName: mark.tool,
      referencedImageId: imageId,
      FrameOfReferenceUID: headers[mark.image].FrameOfReferenceUID,
    },
    data,
  };
  if (mark.finding) {
    state.finding = mark.finding;
  }
  return state;
}

/** Write the SR of these marks (MeasurementReport.generateReport) to outDir/name. */
function writeReport(name, marks, instanceNumber) {
  const toolState = {};
  for (const mark of marks) {
    const imageId = imageIds[mark.image];
    toolState[imageId] ??= {};
    toolState[imageId][mark.tool] ??= { data: [] };
    toolState[imageId][mark.tool].data.push(annotation(mark));
  }
  const report = MeasurementReport.generateReport(toolState, metaData, {
    SeriesDescription: `dcmjs ${name}`,
    SeriesNumber: 90 + instanceNumber,
    InstanceNumber: 1,
  });
  const dataset = report.dataset;
  // Fixed dates and times: the same bytes on every run.
  for (const keyword of ["ContentDate", "SeriesDate", "InstanceCreationDate"]) {
    if (keyword in dataset) dataset[keyword] = "20260313";
  }
  for (const keyword of ["ContentTime", "SeriesTime", "InstanceCreationTime"]) {
    if (keyword in dataset) dataset[keyword] = "120000";
  }
  dataset._meta.MediaStorageSOPClassUID = { Value: [dataset.SOPClassUID], vr: "UI" };
  dataset._meta.MediaStorageSOPInstanceUID = { Value: [dataset.SOPInstanceUID], vr: "UI" };
  const dict = datasetToDict(dataset);
  const bytes = Buffer.from(dict.write());
  writeFileSync(join(outDir, name), bytes);
  return bytes.length;
}

mkdirSync(outDir, { recursive: true });
const tools = [...new Set(MARKS.map((mark) => mark.tool))];
const files = {};
tools.forEach((tool, index) => {
  const marks = MARKS.filter((mark) => mark.tool === tool);
  files[`${tool}.dcm`] = { marks: marks.map((mark) => mark.id), bytes: writeReport(`${tool}.dcm`, marks, index + 1) };
});
files["all_tools.dcm"] = {
  marks: MARKS.map((mark) => mark.id),
  bytes: writeReport("all_tools.dcm", MARKS, tools.length + 1),
};

const images = Object.fromEntries(
  Object.entries(headers).map(([stem, header]) => [
    stem,
    {
      SOPInstanceUID: header.SOPInstanceUID,
      SOPClassUID: header.SOPClassUID,
      SeriesInstanceUID: header.SeriesInstanceUID,
      StudyInstanceUID: header.StudyInstanceUID,
      FrameOfReferenceUID: header.FrameOfReferenceUID ?? null,
      Rows: header.Rows,
      Columns: header.Columns,
    },
  ]),
);
const description = {
  generator: {
    script: "tests/interop/node/generate.mjs",
    node: process.version,
    "@cornerstonejs/adapters": version("@cornerstonejs/adapters"),
    "@cornerstonejs/core": version("@cornerstonejs/core"),
    dcmjs: version("dcmjs"),
  },
  coordinates:
    "points: image coordinates (column, row) of the tool's handles; world: the Cornerstone3D " +
    "world coordinates given to the tool (identity image plane, see common.mjs)",
  images,
  files,
  marks: MARKS.map((mark) => ({
    ...mark,
    sop_instance_uid: headers[mark.image].SOPInstanceUID,
    world: mark.points.map((point) => toWorld(imageIds[mark.image], point)),
  })),
};
writeFileSync(join(outDir, "marks.json"), `${JSON.stringify(description, null, 2)}\n`);
process.stderr.write(`wrote ${Object.keys(files).length} SRs and marks.json to ${outDir}\n`);
