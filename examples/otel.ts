/**
 * OpenTelemetry set-up for the examples: the Node SDK with an OTLP/HTTP trace
 * exporter, configured by the standard environment variables.
 *
 *   OTEL_SERVICE_NAME              service name shown in Jaeger (default cistern-example)
 *   OTEL_EXPORTER_OTLP_ENDPOINT    collector base URL (default http://localhost:4318; Jaeger's OTLP/HTTP port)
 *   OTEL_METRICS_EXPORTER          none (default here: Jaeger stores no metrics) | prometheus (:9464/metrics) | otlp
 *
 * Import it first (`import './otel.js'`); cistern picks the global providers up
 * lazily, so the order only matters for other instrumentations.
 *
 * The same code runs on both OpenTelemetry SDK families. What to install:
 *   Node >= 22.15 (the 3.x family, what a user starting today gets):
 *     npm install @opentelemetry/api @opentelemetry/sdk-node @opentelemetry/exporter-trace-otlp-http
 *   Node 20 (the 2.x family, which this repository's lockfile pins):
 *     npm install @opentelemetry/api@1.9 @opentelemetry/sdk-node@0.223 @opentelemetry/exporter-trace-otlp-http@0.223
 * See docs/telemetry.md, "Install".
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';

process.env.OTEL_METRICS_EXPORTER ??= 'none';

export const sdk = new NodeSDK({
  serviceName: process.env.OTEL_SERVICE_NAME ?? 'cistern-example',
  // OTLP/HTTP with JSON bodies; reads OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.
  traceExporter: new OTLPTraceExporter(),
});
sdk.start();

/** Flush and stop telemetry (call before the process exits). */
export async function shutdownTelemetry(): Promise<void> {
  await sdk.shutdown();
}
