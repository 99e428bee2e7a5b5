// Per-route throttling of the HTTP API: the stage's default route settings throttle the webhooks; the routes named
// here get their own bucket (API Gateway applies route settings before the default), so report downloads (and the
// future console) can never use up the webhooks' rate, nor the other way round.
import { CfnRoute, type CfnStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Api } from 'sst/constructs';
import type { Throttle } from './stages.ts';

/** `api`: any SST Api, whatever its authorizers (only its HTTP API and construct tree are used). */
export function throttleRoutes(
  api: Pick<Api, 'cdk' | 'node'>,
  routes: Readonly<Record<string, Throttle>>,
): void {
  const stage = api.cdk.httpApi.defaultStage?.node.defaultChild as CfnStage | undefined;
  if (!stage) throw new Error('throttleRoutes: the API has no default stage');
  stage.routeSettings = Object.fromEntries(
    Object.entries(routes).map(([routeKey, throttle]) => [
      routeKey,
      // RouteSettings is a JSON-typed property: CDK passes it through as is, so CloudFormation's own casing.
      { ThrottlingRateLimit: throttle.rate, ThrottlingBurstLimit: throttle.burst },
    ]),
  );
  // CloudFormation rejects route settings for a route key that does not exist yet: create the routes first.
  const wanted = new Set(Object.keys(routes));
  for (const route of api.node.findAll()) {
    if (route instanceof CfnRoute && wanted.delete(route.routeKey)) stage.node.addDependency(route);
  }
  if (wanted.size > 0) throw new Error(`throttleRoutes: no route ${[...wanted].join(', ')} on the API`);
}
