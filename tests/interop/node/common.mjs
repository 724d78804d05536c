// Shared set-up of generate.mjs and read_sr.mjs: dcmjs, the Cornerstone3D SR adapter
// (@cornerstonejs/adapters) and a Cornerstone3D metadata provider for the images an SR
// references, in plain node (no browser, no rendering).
//
// Image coordinates: Cornerstone3D tools hold world coordinates; the adapter turns them into
// SCOORD image coordinates with core's worldToImageCoords (and back with imageToWorldCoords),
// both from the 'imagePlaneModule'. A projection radiograph has no Image Position/Orientation
// (Patient), so every image gets the identity plane (origin 0, row and column cosines along
// x and y, 1 mm spacing): SCOORD (column, row) is then world (column - 0.5, row - 0.5, 0),
// exactly in float32 for the half-integer coordinates the fixtures use.

import { readFileSync } from "node:fs";

// Cornerstone's loggers and dcmjs's write to the console: keep stdout for our JSON.
for (const level of ["log", "info", "warn", "debug", "trace"]) {
  console[level] = (...args) => process.stderr.write(`${args.map(String).join(" ")}\n`);
}

const dcmjs = (await import("dcmjs")).default;
const { adaptersSR } = await import("@cornerstonejs/adapters");
const { metaData, utilities } = await import("@cornerstonejs/core");

export { adaptersSR, dcmjs, metaData, utilities };

/** The Cornerstone3D image id we give the image of this SOP Instance UID (and frame). */
export function imageIdOf(sopInstanceUID, frame = 1) {
  return `galactoview:${sopInstanceUID}:${frame}`;
}

/** Read a DICOM file's header (no pixel data) and return it naturalized. */
export function readHeader(path) {
  const bytes = readFileSync(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const message = dcmjs.data.DicomMessage.readFile(buffer, { untilTag: "7FE00010" });
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict);
}

/** Read a whole DICOM file (an SR) and return it naturalized. */
export function readDataset(path) {
  const bytes = readFileSync(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const message = dcmjs.data.DicomMessage.readFile(buffer);
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict);
  dataset._meta = dcmjs.data.DicomMetaDictionary.namifyDataset(message.meta);
  return dataset;
}

const images = new Map();

/**
 * Register an image for the metadata provider: `header` is its naturalized header, or, for an
 * image known only by reference, an object with SOPInstanceUID (and maybe SOPClassUID).
 */
export function registerImage(header, frame = 1) {
  const imageId = imageIdOf(header.SOPInstanceUID, frame);
  images.set(imageId, { header, frame });
  return imageId;
}

/** (row, column) spacing in mm of an image header: Pixel Spacing, else Imager Pixel Spacing. */
function spacingOf(header) {
  const spacing = header.PixelSpacing ?? header.ImagerPixelSpacing ?? [1, 1];
  return [Number(spacing[0]), Number(spacing[1])];
}

function provide(type, imageId) {
  const image = images.get(imageId);
  if (!image) {
    return undefined;
  }
  const { header, frame } = image;
  switch (type) {
    case "imagePlaneModule":
      return {
        frameOfReferenceUID: header.FrameOfReferenceUID,
        rows: header.Rows,
        columns: header.Columns,
        imagePositionPatient: [0, 0, 0],
        rowCosines: [1, 0, 0],
        columnCosines: [0, 1, 0],
        // As OHIF measures on a mammogram: the image's own spacing (Pixel Spacing, else
        // Imager Pixel Spacing), so the mm values stored are those of the sample's images.
        rowPixelSpacing: spacingOf(header)[0],
        columnPixelSpacing: spacingOf(header)[1],
      };
    case "imagePixelModule":
      return { rows: header.Rows, columns: header.Columns };
    case "sopCommonModule":
      return { sopInstanceUID: header.SOPInstanceUID, sopClassUID: header.SOPClassUID };
    case "instance":
      return header;
    case "frameNumber":
      return frame;
    default:
      return undefined;
  }
}

metaData.addProvider(provide, 10000);

/** World coordinates of an image point (column, row) on a registered image. */
export function toWorld(imageId, [x, y]) {
  return utilities.imageToWorldCoords(imageId, [x, y]);
}

/** Image coordinates (column, row) of a world point on a registered image. */
export function toImage(imageId, point) {
  return utilities.worldToImageCoords(imageId, point).map(Number);
}
