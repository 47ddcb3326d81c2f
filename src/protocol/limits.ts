// Limits and defaults that are part of the public wire protocol (docs/PROTOCOL.md). Both ends
// read them from here; the server's full configuration (src/config.ts) builds on them.

/** Default client endpoint of the serving primary. */
export const DEFAULT_ENDPOINT = 'tcp://127.0.0.1:7400';
/** Default largest request frame (`maxFrameBytes`). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
export const MAX_KEY_BYTES = 1024;
export const MAX_ID_CHARS = 128;
