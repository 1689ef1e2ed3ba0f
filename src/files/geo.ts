/**
 * geoLocation: a GeoJSON Feature (RFC 7946) and its bounding box, which `geoIntersects` compares
 * with a query box (through a spatial index, src/files/geo-index.ts).
 */
import type { FieldError } from "./errors.js";

/** A bounding box in degrees; west > east crosses the antimeridian (queries only). */
export interface BoundingBox {
  minLongitude: number;
  minLatitude: number;
  maxLongitude: number;
  maxLatitude: number;
}

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

/** A query box as boxes that do not cross the antimeridian (two when west > east). */
export function splitAtAntimeridian(box: BoundingBox): BoundingBox[] {
  if (box.minLongitude <= box.maxLongitude) return [box];
  return [
    { ...box, maxLongitude: 180 },
    { ...box, minLongitude: -180 },
  ];
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
