import {
  ConflictError,
  type FileError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  UploadIncompleteError,
  ValidationError,
} from "../files/errors.js";
import { builder } from "./builder.js";

const ErrorInterface = builder.interfaceRef<FileError>("Error").implement({
  fields: (t) => ({
    message: t.exposeString("message"),
    code: t.exposeString("code"),
  }),
});

const FieldErrorRef = builder.objectRef<{ path: string[]; message: string }>("FieldError").implement({
  fields: (t) => ({
    path: t.exposeStringList("path"),
    message: t.exposeString("message"),
  }),
});

builder.objectType(ValidationError, {
  name: "ValidationError",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof ValidationError,
  fields: (t) => ({ fieldErrors: t.field({ type: [FieldErrorRef], resolve: (error) => error.fieldErrors }) }),
});

builder.objectType(PayloadTooLargeError, {
  name: "PayloadTooLargeError",
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof PayloadTooLargeError,
  fields: (t) => ({ maxSize: t.expose("maxSize", { type: "SafeInt" }) }),
});

for (const [ErrorClass, name] of [
  [NotFoundError, "NotFoundError"],
  [ConflictError, "ConflictError"],
  [UnsupportedMediaTypeError, "UnsupportedMediaTypeError"],
  [UploadIncompleteError, "UploadIncompleteError"],
] as const) {
  builder.objectType(ErrorClass, {
    name,
    interfaces: [ErrorInterface],
    isTypeOf: (value) => value instanceof ErrorClass,
    fields: () => ({}),
  });
}
