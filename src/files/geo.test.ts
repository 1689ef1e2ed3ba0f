import { describe, expect, it } from "vitest";
import { checkFeature, MAX_GEO_POSITIONS } from "./geo.js";

const feature = (geometry: unknown, extra: Record<string, unknown> = {}) => ({
  type: "Feature",
  properties: {},
  geometry,
  ...extra,
});
/** The paths and messages of a feature's errors, below "geoLocation". */
const problems = (value: unknown) =>
  checkFeature(value, ["geoLocation"]).errors.map((error) => [error.path.join("."), error.message]);

describe("checkFeature (RFC 7946)", () => {
  it.each([
    [
      "a Point",
      { type: "Point", coordinates: [10, 20] },
      { minLongitude: 10, minLatitude: 20, maxLongitude: 10, maxLatitude: 20 },
    ],
    [
      "a Point with altitude",
      { type: "Point", coordinates: [10, 20, 300] },
      { minLongitude: 10, minLatitude: 20, maxLongitude: 10, maxLatitude: 20 },
    ],
    [
      "a MultiPoint",
      {
        type: "MultiPoint",
        coordinates: [
          [1, 2],
          [-3, 4],
        ],
      },
      { minLongitude: -3, minLatitude: 2, maxLongitude: 1, maxLatitude: 4 },
    ],
    [
      "a LineString",
      {
        type: "LineString",
        coordinates: [
          [1, 2],
          [3, -4],
        ],
      },
      { minLongitude: 1, minLatitude: -4, maxLongitude: 3, maxLatitude: 2 },
    ],
    [
      "a MultiLineString",
      {
        type: "MultiLineString",
        coordinates: [
          [
            [1, 2],
            [3, 4],
          ],
          [
            [5, 6],
            [7, 8],
          ],
        ],
      },
      { minLongitude: 1, minLatitude: 2, maxLongitude: 7, maxLatitude: 8 },
    ],
    [
      "a Polygon",
      {
        type: "Polygon",
        coordinates: [
          [
            [0, 0],
            [4, 0],
            [4, 4],
            [0, 0],
          ],
        ],
      },
      { minLongitude: 0, minLatitude: 0, maxLongitude: 4, maxLatitude: 4 },
    ],
    [
      "a MultiPolygon",
      {
        type: "MultiPolygon",
        coordinates: [
          [
            [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 0],
            ],
          ],
          [
            [
              [-5, -5],
              [-4, -5],
              [-4, -4],
              [-5, -5],
            ],
          ],
        ],
      },
      { minLongitude: -5, minLatitude: -5, maxLongitude: 1, maxLatitude: 1 },
    ],
  ])("accepts %s and finds its bounding box", (_label, geometry, box) => {
    expect(checkFeature(feature(geometry), [])).toEqual({ errors: [], box });
  });

  it("accepts a feature without geometry (null), which has no box", () => {
    expect(checkFeature(feature(null), [])).toEqual({ errors: [], box: null });
  });

  it.each([
    ["not an object", [1, 2], "geoLocation", "must be a GeoJSON Feature object"],
    [
      "no geometry member",
      { type: "Feature", properties: {} },
      "geoLocation.geometry",
      "is required (a geometry object, or null)",
    ],
    [
      "properties that are a list",
      feature(null, { properties: [] }),
      "geoLocation.properties",
      "must be an object or null",
    ],
    [
      "a GeometryCollection",
      feature({ type: "GeometryCollection", geometries: [] }),
      "geoLocation.geometry.type",
      "must be one of Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon",
    ],
    [
      "latitude first (out of range)",
      feature({ type: "Point", coordinates: [45, 120] }),
      "geoLocation.geometry.coordinates.1",
      "latitude must be between -90 and 90",
    ],
    [
      "a longitude past 180",
      feature({
        type: "LineString",
        coordinates: [
          [0, 0],
          [180.5, 0],
        ],
      }),
      "geoLocation.geometry.coordinates.1.0",
      "longitude must be between -180 and 180",
    ],
    [
      "a position of one number",
      feature({ type: "MultiPoint", coordinates: [[1]] }),
      "geoLocation.geometry.coordinates.0",
      "must be a position: [longitude, latitude] or [longitude, latitude, altitude], numbers",
    ],
    [
      "a LineString of one position",
      feature({ type: "LineString", coordinates: [[1, 1]] }),
      "geoLocation.geometry.coordinates",
      "must be at least 2 positions",
    ],
    [
      "an open ring",
      feature({
        type: "Polygon",
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 1],
          ],
        ],
      }),
      "geoLocation.geometry.coordinates.0.3",
      "a linear ring must end at its first position (RFC 7946 §3.1.6)",
    ],
    [
      "a ring of three positions",
      feature({
        type: "Polygon",
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [0, 0],
          ],
        ],
      }),
      "geoLocation.geometry.coordinates.0",
      "must be a linear ring: at least 4 positions",
    ],
    [
      "an empty MultiPolygon",
      feature({ type: "MultiPolygon", coordinates: [] }),
      "geoLocation.geometry.coordinates",
      "must be a non-empty array",
    ],
    [
      "a bad ring deep in a MultiPolygon",
      feature({
        type: "MultiPolygon",
        coordinates: [
          [
            [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 0],
            ],
          ],
          [
            [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 0],
            ],
            [
              [0, 0],
              ["x", 0],
              [1, 1],
              [0, 0],
            ],
          ],
        ],
      }),
      "geoLocation.geometry.coordinates.1.1.1",
      "must be a position: [longitude, latitude] or [longitude, latitude, altitude], numbers",
    ],
    [
      "a bbox of 3 numbers",
      feature(null, { bbox: [1, 2, 3] }),
      "geoLocation.bbox",
      "must be 4 or 6 numbers (RFC 7946 §5)",
    ],
  ])("refuses %s, at the path inside the feature", (_label, value, path, message) => {
    expect(problems(value)).toEqual([[path, message]]);
  });

  it("refuses a bare geometry: it is not a Feature and has no geometry member", () => {
    expect(problems({ type: "Point", coordinates: [0, 0] })).toEqual([
      ["geoLocation.type", 'must be "Feature"'],
      ["geoLocation.geometry", "is required (a geometry object, or null)"],
    ]);
  });

  it(`accepts ${MAX_GEO_POSITIONS} positions and refuses one more`, () => {
    const points = (n: number) =>
      feature({ type: "MultiPoint", coordinates: Array.from({ length: n }, (_, i) => [i % 180, 0]) });
    expect(problems(points(MAX_GEO_POSITIONS))).toEqual([]);
    expect(problems(points(MAX_GEO_POSITIONS + 1))).toEqual([
      ["geoLocation", `must hold at most ${MAX_GEO_POSITIONS} positions`],
    ]);
  });
});
