import { S3Storage } from "../src/storage/s3.js";
import { startS3Server } from "./helpers/s3-server.js";
import { describeStorageDriver } from "./storage.shared.js";

describeStorageDriver("s3", async () => {
  const s3 = await startS3Server();
  const driver = new S3Storage({ bucket: s3.bucket, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true, credentials: s3.credentials });
  await driver.checkBucket();
  return {
    driver,
    async cleanup() {
      driver.destroy();
      await s3.close();
    },
  };
});
