/**
 * Reads a JSON object (a registration, a metadata document, an admin API body): the object, or why it is not one.
 * Each caller turns the reason into its own protocol error.
 */
export type JsonObjectResult = { ok: true; value: Record<string, unknown> } | { ok: false; reason: 'not-json' | 'not-an-object' };

export function parseJsonObject(text: string): JsonObjectResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not-json' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'not-an-object' };
  return { ok: true, value: value as Record<string, unknown> };
}
