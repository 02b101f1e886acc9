/**
 * The media type of a `Content-Type` header: type/subtype, lower-cased, without parameters (`; charset=…`); `''`
 * when there is no header.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-8.3.1 (type and subtype are case-insensitive)
 */
export function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}
