/**
 * geoLocation: a GeoJSON Feature (RFC 7946), its bounding box, and the quadtree cells that index
 * the box for `geoIntersects`.
 *
 * The cells divide longitude × latitude (plate carrée, not Web Mercator) in four at each level;
 * a cell's quadkey has one digit (0-3) per level, so a cell's descendants are exactly the
 * quadkeys it prefixes. A box is indexed by the 1 to 4 cells that cover it at the deepest level
 * where it spans at most two cells each way. A query box with cells Q then meets only boxes
 * indexed by a cell that is a prefix of a cell in Q (an ancestor, or Q's cell itself) or that a
 * cell in Q prefixes (a descendant): equalities and prefix ranges on one index.
 */
import type { FieldError } from "./errors.js";

/** A bounding box in degrees; west > east crosses the antimeridian (queries only). */
export interface BoundingBox {
  minLongitude: number;
  minLatitude: number;
  maxLongitude: number;
  maxLatitude: number;
}

/** Deepest level of the quadtree: cells of about 2 cm of longitude at the equator. */
const MAX_LEVEL = 24;
/** Most positions a geoLocation may hold. */
export const MAX_GEO_POSITIONS = 10_000;

const GEOMETRY_TYPES = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"] as const;
type GeometryType = (typeof GEOMETRY_TYPES)[number];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks a Feature and returns its errors (paths below `at`) and, when valid, its bounding box (null without geometry). */
export function checkFeature(feature: unknown, at: string[]): { errors: FieldError[]; box: BoundingBox | null } {
  const errors: FieldError[] = [];
  /** Records an error at `path` (inside the feature); false, for the checks that return it. */
  const fail = (path: string[], message: string): false => {
    errors.push({ path: [...at, ...path], message });
    return false;
  };
  if (!isObject(feature)) {
    fail([], "must be a GeoJSON Feature object");
    return { errors, box: null };
  }
  if (feature.type !== "Feature") fail(["type"], 'must be "Feature"');
  if (!("geometry" in feature)) fail(["geometry"], "is required (a geometry object, or null)");
  if ("properties" in feature && feature.properties !== null && !isObject(feature.properties)) {
    fail(["properties"], "must be an object or null");
  }
  if ("id" in feature && typeof feature.id !== "string" && typeof feature.id !== "number")
    fail(["id"], "must be a string or a number");
  if ("bbox" in feature) {
    const bbox = feature.bbox;
    if (
      !Array.isArray(bbox) ||
      (bbox.length !== 4 && bbox.length !== 6) ||
      !bbox.every((n) => typeof n === "number" && Number.isFinite(n))
    ) {
      fail(["bbox"], "must be 4 or 6 numbers (RFC 7946 §5)");
    }
  }
  const geometry = feature.geometry;
  if (geometry === null || geometry === undefined || errors.length > 0) return { errors, box: null };
  if (!isObject(geometry)) {
    fail(["geometry"], "must be a geometry object or null");
    return { errors, box: null };
  }
  const type = geometry.type;
  if (typeof type !== "string" || !(GEOMETRY_TYPES as readonly string[]).includes(type)) {
    fail(["geometry", "type"], `must be one of ${GEOMETRY_TYPES.join(", ")}`);
    return { errors, box: null };
  }
  const box = { minLongitude: 180, minLatitude: 90, maxLongitude: -180, maxLatitude: -90 };
  let positions = 0;

  const position = (value: unknown, path: string[]): boolean => {
    if (
      !Array.isArray(value) ||
      value.length < 2 ||
      value.length > 3 ||
      !value.every((n) => typeof n === "number" && Number.isFinite(n))
    ) {
      fail(path, "must be a position: [longitude, latitude] or [longitude, latitude, altitude], numbers");
      return false;
    }
    const [longitude, latitude] = value as number[] as [number, number];
    if (longitude < -180 || longitude > 180) return fail([...path, "0"], "longitude must be between -180 and 180");
    if (latitude < -90 || latitude > 90) return fail([...path, "1"], "latitude must be between -90 and 90");
    if (++positions > MAX_GEO_POSITIONS) return fail([], `must hold at most ${MAX_GEO_POSITIONS} positions`);
    box.minLongitude = Math.min(box.minLongitude, longitude);
    box.maxLongitude = Math.max(box.maxLongitude, longitude);
    box.minLatitude = Math.min(box.minLatitude, latitude);
    box.maxLatitude = Math.max(box.maxLatitude, latitude);
    return true;
  };

  /** A list of positions (LineString, ring, MultiPoint) with its own rule. */
  const line = (value: unknown, path: string[], kind: "points" | "line" | "ring"): boolean => {
    const least = kind === "ring" ? 4 : kind === "line" ? 2 : 1;
    if (!Array.isArray(value) || value.length < least) {
      const what =
        kind === "ring"
          ? "a linear ring: at least 4 positions"
          : kind === "line"
            ? "at least 2 positions"
            : "at least 1 position";
      fail(path, `must be ${what}`);
      return false;
    }
    for (const [index, item] of value.entries()) if (!position(item, [...path, String(index)])) return false;
    if (kind === "ring") {
      const first = value[0] as number[];
      const last = value.at(-1) as number[];
      if (first.length !== last.length || first.some((n, index) => n !== last[index])) {
        fail([...path, String(value.length - 1)], "a linear ring must end at its first position (RFC 7946 §3.1.6)");
        return false;
      }
    }
    return true;
  };

  const list = (value: unknown, path: string[], each: (item: unknown, path: string[]) => boolean): boolean => {
    if (!Array.isArray(value) || value.length === 0) return fail(path, "must be a non-empty array");
    for (const [index, item] of value.entries()) if (!each(item, [...path, String(index)])) return false;
    return true;
  };

  const path = ["geometry", "coordinates"];
  const coordinates = geometry.coordinates;
  const polygon = (value: unknown, at: string[]) => list(value, at, (ring, ringPath) => line(ring, ringPath, "ring"));
  const valid = {
    Point: () => position(coordinates, path),
    MultiPoint: () => line(coordinates, path, "points"),
    LineString: () => line(coordinates, path, "line"),
    MultiLineString: () => list(coordinates, path, (item, at) => line(item, at, "line")),
    Polygon: () => polygon(coordinates, path),
    MultiPolygon: () => list(coordinates, path, polygon),
  }[type as GeometryType]();
  return { errors, box: valid && errors.length === 0 ? box : null };
}

/** Where a coordinate falls in [0, 2^level) cells along its axis. */
function cellIndex(fraction: number, level: number): number {
  const cells = 2 ** level;
  return Math.min(cells - 1, Math.max(0, Math.floor(fraction * cells)));
}

function quadkey(x: number, y: number, level: number): string {
  let key = "";
  for (let bit = level - 1; bit >= 0; bit -= 1) key += String(((x >> bit) & 1) + 2 * ((y >> bit) & 1));
  return key;
}

/** The cells covering a (non-crossing) box at the deepest level where it spans at most 2 × 2 cells. */
export function boxCells(box: BoundingBox): string[] {
  const x0 = (box.minLongitude + 180) / 360;
  const x1 = (box.maxLongitude + 180) / 360;
  const y0 = (box.minLatitude + 90) / 180;
  const y1 = (box.maxLatitude + 90) / 180;
  let level = MAX_LEVEL;
  while (
    level > 0 &&
    (cellIndex(x1, level) - cellIndex(x0, level) > 1 || cellIndex(y1, level) - cellIndex(y0, level) > 1)
  )
    level -= 1;
  const cells: string[] = [];
  for (let x = cellIndex(x0, level); x <= cellIndex(x1, level); x += 1) {
    for (let y = cellIndex(y0, level); y <= cellIndex(y1, level); y += 1) cells.push(quadkey(x, y, level));
  }
  return cells;
}

/** A query box as boxes that do not cross the antimeridian (two when west > east). */
export function splitAtAntimeridian(box: BoundingBox): BoundingBox[] {
  if (box.minLongitude <= box.maxLongitude) return [box];
  return [
    { ...box, maxLongitude: 180 },
    { ...box, minLongitude: -180 },
  ];
}

/**
 * What the index must be asked for a query box: the quadkeys to match exactly (the box's cells
 * and every ancestor) and the prefixes whose descendants match.
 */
export function queryCells(box: BoundingBox): { exact: string[]; prefixes: string[] } {
  const cells = boxCells(box);
  const exact = new Set<string>();
  for (const cell of cells) for (let length = 0; length < cell.length; length += 1) exact.add(cell.slice(0, length));
  return { exact: [...exact], prefixes: cells };
}

/** Problems with a query box, each at its field below `at`. */
export function boxErrors(box: BoundingBox, at: string[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ["minLongitude", "maxLongitude"] as const) {
    if (!(box[field] >= -180 && box[field] <= 180))
      errors.push({ path: [...at, field], message: "must be between -180 and 180" });
  }
  for (const field of ["minLatitude", "maxLatitude"] as const) {
    if (!(box[field] >= -90 && box[field] <= 90))
      errors.push({ path: [...at, field], message: "must be between -90 and 90" });
  }
  if (errors.length === 0 && box.minLatitude > box.maxLatitude) {
    errors.push({ path: [...at, "maxLatitude"], message: "must not be below minLatitude" });
  }
  return errors;
}
