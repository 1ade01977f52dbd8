import { ENDPOINT_COLUMNS } from '../rows.ts';

/**
 * Writes an endpoint from an earlier read with the caller's changes ($1 … $19: its first columns in
 * ENDPOINT_COLUMNS order, id to tls_policy; $20 now; $21 the read's updated_at). Two columns are also the dispatcher's,
 * which may have written them since (recordOutcomes): `failing_since` is kept, unless this update
 * enables the endpoint again (a fresh failure window); `disabled` becomes the caller's only if the
 * row is unchanged since its read or the caller disables it. Disabling fails its pending rows
 * (they can be recovered). Answers the stored row.
 */
export const UPDATE_ENDPOINT = `
WITH written AS (
  UPDATE endpoints SET uid = $3, url = $4, description = $5,
    disabled = CASE WHEN $6::boolean OR updated_at = $21 THEN $6::boolean ELSE disabled END,
    filter_types = $7::text[], channels = $8::text[], metadata = $9::jsonb, headers = $10::jsonb,
    rate_limit = $11, version = $12, secrets = $13::jsonb, signing = $14,
    server_ca_pem = $15, client_cert_pem = $16, client_key_pem = $17, allow_http = $18, tls_policy = $19::jsonb,
    failing_since = CASE WHEN NOT $6::boolean AND disabled AND updated_at = $21 THEN NULL ELSE failing_since END,
    updated_at = $20
  WHERE id = $1 AND app_id = $2
  RETURNING *
),
failed AS (
  UPDATE deliveries SET status = 2, next_attempt_at = NULL, locked_by = NULL, locked_until = NULL, lease_token = NULL,
    updated_at = $20
  WHERE $6::boolean AND endpoint_id IN (SELECT id FROM written) AND status = 1
)
SELECT ${ENDPOINT_COLUMNS.join(', ')} FROM written
`;
