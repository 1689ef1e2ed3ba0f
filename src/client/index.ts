// graphql-files/client: upload files to a graphql-files API from browsers and Node.js ≥ 20.
export { type Api, ApiError, graphqlRequest } from "./request.js";
export {
  abortUpload,
  resumeUpload,
  type TransferOptions,
  UploadError,
  type UploadedFile,
  type UploadMethodChoice,
  type UploadOptions,
  type UploadProgress,
  type UploadRefusal,
  uploadFile,
} from "./upload.js";
