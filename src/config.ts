import { availableParallelism } from 'node:os';
import { z } from 'zod';

// The only place that reads the environment: everything else takes a Config.
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

/** Words that mark a token copied from documentation rather than generated. */
const PLACEHOLDER = /change|example|placeholder|password|secret|token|admin|default/i;

/**
 * A bearer token from the environment: long and varied enough that it was generated, not typed.
 * Its strength is estimated as length × log2(distinct characters): `openssl rand -hex 24` gives 192 bits.
 */
const secretToken = (name: string) =>
  z
    .string()
    .min(24, `${name} must be at least 24 characters (generate one: openssl rand -hex 24)`)
    .refine((s) => !PLACEHOLDER.test(s) && s.length * Math.log2(new Set(s).size) >= 110, `${name} looks typed or copied from an example, not generated: use openssl rand -hex 24`);

const configSchema = z.object({
  DATABASE_URL: z.preprocess(emptyAsUndefined, z.string().url().optional()),
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default('.data')),
  PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(3000)),
  HOST: z.preprocess(emptyAsUndefined, z.string().default('127.0.0.1')),
  ADMIN_TOKEN: z.preprocess(emptyAsUndefined, secretToken('ADMIN_TOKEN').optional()),
  METRICS_TOKEN: z.preprocess(emptyAsUndefined, secretToken('METRICS_TOKEN').optional()),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  DATABASE_STATEMENT_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(3_600_000).default(60_000)),
  DATABASE_POOL_SIZE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(200).default(10)),
  MAX_BODY_BYTES: z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(32 * 1024 * 1024),
  ),
  RATE_LIMIT_PER_MINUTE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(10_000_000).default(3000)),
  CORS_ORIGINS: z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((o) => o.trim())
            .filter(Boolean)
        : v,
    z.array(z.string().url('CORS_ORIGINS is a comma-separated list of origins such as https://app.example.com')).default([]),
  ),
  LOAD_SHED_EVENT_LOOP_DELAY_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(60_000).default(1_000)),
  LOAD_SHED_POOL_QUEUE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(100_000).default(100)),
  MAX_CONNECTIONS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(1_000_000).default(1_000)),
  HEADERS_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(100).max(600_000).default(10_000)),
  REQUEST_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(100).max(3_600_000).default(30_000)),
  IDLE_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(100).max(3_600_000).default(90_000)),
  KEEP_ALIVE_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(100).max(3_600_000).default(72_000)),
  MAX_STREAMS_PER_KEY: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(1_000).default(2)),
  MAX_HEAVY_READS_PER_KEY: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(1_000).default(2)),
  // Heavy reads are PostgreSQL CPU: as many at once as there are cores, whatever keys ask.
  MAX_HEAVY_READS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(1_000).default(availableParallelism())),
  AUTH_FAILURES_PER_MINUTE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(1_000_000).default(30)),
  READ_WAIT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(600_000).default(5_000)),
  PROJECTOR_BATCH_EVENTS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(1_000_000).default(10_000)),
  PROJECTOR_POLL_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(5).max(60_000).default(100)),
  PROJECTOR_CONCURRENCY: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(64).default(2)),
  // Whether this process sends webhook deliveries (a deployment may leave it to some processes).
  WEBHOOK_SENDER: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
  ),
  // Webhooks (SPEC §9): private, loopback and link-local targets (and plain http) are refused unless this is true.
  WEBHOOK_ALLOW_PRIVATE: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
  ),
  // Encrypts the stored signing secrets; when unset, a key generated into the database (service_secrets) does.
  WEBHOOK_ENCRYPTION_KEY: z.preprocess(emptyAsUndefined, secretToken('WEBHOOK_ENCRYPTION_KEY').optional()),
  WEBHOOK_CONCURRENCY: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(1_000).default(16)),
  WEBHOOK_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(100).max(120_000).default(10_000)),
  WEBHOOK_POLL_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(5).max(60_000).default(1_000)),
  WEBHOOK_BACKOFF_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(3_600_000).default(10_000)),
  WEBHOOK_BACKOFF_MAX_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).max(86_400_000).default(3_600_000)),
  WEBHOOK_RETRY_SECONDS: z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(86_400),
  ),
  SHUTDOWN_TIMEOUT_MS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(100).default(10_000)),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}

/** A config with every default, for tests and tools that override a few fields. */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({}), ...overrides };
}
