// Network: one VPC per stage. Public subnets hold only the NAT; the in-VPC functions (consumer, migrate,
// reconciliation, sweep) live in private subnets with egress; the database and its proxy live in isolated subnets.
// Why NAT at all, and why an instance outside prod: docs/decisions.md ("Network: NAT and VPC endpoints").
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { StackContext } from 'sst/constructs';
import { stageSettings } from './stage.ts';

export function Network({ stack, app }: StackContext) {
  const settings = stageSettings(app.stage);
  const natInstance =
    settings.network.nat === 'instance'
      ? ec2.NatProvider.instanceV2({
          instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO),
          defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
        })
      : undefined;

  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: settings.network.natCount,
    ...(natInstance ? { natGatewayProvider: natInstance } : {}),
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'functions', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
    // Reports go to S3 through the free gateway endpoint, not through the NAT (no per-GB processing charge).
    gatewayEndpoints: {
      S3: {
        service: ec2.GatewayVpcEndpointAwsService.S3,
        subnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      },
    },
  });
  if (natInstance) {
    natInstance.connections.allowFrom(
      ec2.Peer.ipv4(vpc.vpcCidrBlock),
      ec2.Port.tcp(443),
      'HTTPS from the VPC',
    );
  }

  // In-VPC functions: HTTPS out (provider APIs, AWS APIs via NAT / S3 endpoint) and Postgres to the proxy only.
  const functionsSecurityGroup = new ec2.SecurityGroup(stack, 'FunctionsSecurityGroup', {
    vpc,
    description: 'payhooks in-VPC Lambda functions',
    allowAllOutbound: false,
  });
  functionsSecurityGroup.addEgressRule(
    ec2.Peer.anyIpv4(),
    ec2.Port.tcp(443),
    'HTTPS to AWS and provider APIs',
  );
  // Inside the VPC only the proxy listens on 5432 (its security group admits this group alone).
  functionsSecurityGroup.addEgressRule(
    ec2.Peer.ipv4(vpc.vpcCidrBlock),
    ec2.Port.tcp(5432),
    'Postgres to the RDS Proxy',
  );

  const functionSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  const databaseSubnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

  return { vpc, functionsSecurityGroup, functionSubnets, databaseSubnets };
}
