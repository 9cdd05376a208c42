import type { TokenCredential } from "@azure/core-auth";
import { BlobServiceClient, type StoragePipelineOptions } from "@azure/storage-blob";
import { describe, expect, inject, it } from "vitest";
import { readOnlySasUrl } from "../../src/storage/sas.js";

const window = {
  startsOn: new Date("2026-11-30T10:00:00Z"),
  expiresOn: new Date("2026-11-30T22:00:00Z"),
};

interface WireRequest {
  method: string;
  url: string;
  headers: { get(name: string): string | undefined };
}

describe("read-only SAS for the lexicon", () => {
  it("with the app's identity: a user-delegation SAS from Get User Delegation Key, signed without any account key", async () => {
    const requests: { method: string; url: string; authorization: string | undefined }[] = [];
    // The storage service's side of the wire, in the SDK's (core-http compat) HttpClient shape: the
    // documented Get User Delegation Key response.
    const httpClient = {
      async sendRequest(request: WireRequest) {
        requests.push({
          method: request.method,
          url: request.url,
          authorization: request.headers.get("authorization"),
        });
        const body =
          '<?xml version="1.0" encoding="utf-8"?><UserDelegationKey><SignedOid>11111111-1111-1111-1111-111111111111</SignedOid>' +
          "<SignedTid>22222222-2222-2222-2222-222222222222</SignedTid><SignedStart>2026-11-30T10:00:00Z</SignedStart>" +
          "<SignedExpiry>2026-11-30T22:00:00Z</SignedExpiry><SignedService>b</SignedService><SignedVersion>2025-01-05</SignedVersion>" +
          `<Value>${Buffer.alloc(32, 7).toString("base64")}</Value></UserDelegationKey>`;
        const headers: Record<string, string> = { "content-type": "application/xml" };
        return {
          request,
          status: 200,
          headers: {
            get: (name: string) => headers[name.toLowerCase()],
            toJson: () => headers,
            rawHeaders: () => headers,
            headersArray: () => Object.entries(headers).map(([name, value]) => ({ name, value })),
          },
          bodyAsText: body,
        };
      },
    } as unknown as StoragePipelineOptions["httpClient"];
    const credential: TokenCredential = {
      getToken: async () => ({ token: "app-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const service = new BlobServiceClient("https://acct.blob.core.windows.net", credential, {
      ...(httpClient ? { httpClient } : {}),
    });
    const blob = service.getContainerClient("tts-work").getBlobClient("book/r1/lexicon.pls");
    const url = new URL(await readOnlySasUrl(service, blob, window));

    expect(requests).toHaveLength(1);
    expect(requests[0]?.method).toBe("POST");
    expect(requests[0]?.url).toContain("restype=service&comp=userdelegationkey");
    expect(requests[0]?.authorization).toBe("Bearer app-token");
    expect(url.origin + url.pathname).toBe("https://acct.blob.core.windows.net/tts-work/book/r1/lexicon.pls");
    const q = url.searchParams;
    expect(q.get("sp")).toBe("r");
    expect(q.get("sr")).toBe("b");
    expect(q.get("skoid")).toBe("11111111-1111-1111-1111-111111111111");
    expect(q.get("se")).toBe("2026-11-30T22:00:00Z");
    expect(q.get("sig")).toBeTruthy();
  });

  it("with a connection string (Azurite): a service SAS, the same for the same window", async () => {
    const service = BlobServiceClient.fromConnectionString(inject("azuriteConnectionString"));
    const blob = service.getContainerClient("any").getBlobClient("a/lexicon.pls");
    const first = await readOnlySasUrl(service, blob, window);
    expect(new URL(first).searchParams.get("skoid")).toBeNull();
    expect(new URL(first).searchParams.get("sp")).toBe("r");
    expect(await readOnlySasUrl(service, blob, window)).toBe(first);
  });
});
