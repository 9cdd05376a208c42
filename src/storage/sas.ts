import {
  type BlobClient,
  BlobSASPermissions,
  type BlobServiceClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";

/** Validity of a read SAS: from `startsOn` to `expiresOn` (both fixed by the caller, so a retry signs the same). */
export interface SasWindow {
  startsOn: Date;
  expiresOn: Date;
}

/**
 * A read-only SAS URL for one blob, for a service (Speech) that fetches it anonymously.
 *
 * On Azure the app signs in with its identity, so this is a user-delegation SAS: a delegation key from
 * `Get User Delegation Key` (needs the Storage Blob Delegator action, part of Storage Blob Data Contributor)
 * signs it, and no account key is ever used (https://learn.microsoft.com/rest/api/storageservices/create-user-delegation-sas).
 * With a connection string that holds an account key (Azurite locally) there is no identity to delegate
 * from, and a service SAS signed by that key is the local equivalent.
 */
export async function readOnlySasUrl(
  service: BlobServiceClient,
  blob: BlobClient,
  window: SasWindow,
): Promise<string> {
  const values = {
    containerName: blob.containerName,
    blobName: blob.name,
    permissions: BlobSASPermissions.parse("r"),
    startsOn: window.startsOn,
    expiresOn: window.expiresOn,
  };
  // Only the signer differs (the SDK's two overloads); the URL is built once.
  const query =
    service.credential instanceof StorageSharedKeyCredential
      ? generateBlobSASQueryParameters(values, service.credential)
      : generateBlobSASQueryParameters(
          values,
          await service.getUserDelegationKey(window.startsOn, window.expiresOn),
          service.accountName,
        );
  return `${blob.url}?${query.toString()}`;
}
