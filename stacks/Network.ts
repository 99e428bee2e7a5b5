// Network: one VPC per stage. Public subnets hold only the NAT; the in-VPC functions (consumer, migrate,
// reconciliation, sweep) live in private subnets with egress; the database and its proxy live in isolated subnets.
// Why NAT at all, and why an instance outside prod: docs/decisions.md ("Network: NAT and VPC endpoints").
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { StackContext } from 'sst/constructs';
import { LOG_GROUP_ENCRYPTION, resourceMatching, waive } from './nag.ts';
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
  // Flow logs (AwsSolutions-VPC7, PCI 10.x): rejected connections are what an investigation needs first.
  const flowLogs = new logs.LogGroup(stack, 'FlowLogs', {
    retention: settings.logRetention,
    removalPolicy: settings.removal,
  });
  const flowLog = vpc.addFlowLog('FlowLog', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
    trafficType: ec2.FlowLogTrafficType.REJECT,
  });
  waive(flowLogs, [LOG_GROUP_ENCRYPTION]);
  waive(flowLog, [
    {
      id: 'AwsSolutions-IAM5',
      reason: "VPC Flow Logs' role writes log streams it names itself inside this one log group (<arn>:*).",
      appliesTo: [resourceMatching('<FlowLogs[0-9A-F]+\\.Arn>:\\*')],
    },
    {
      id: 'PCI.DSS.321-IAMNoInlinePolicy',
      reason: 'CDK-generated flow-log role: one inline policy for this log group only.',
    },
  ]);
  for (const subnet of vpc.publicSubnets) {
    waive(subnet, [
      {
        id: 'PCI.DSS.321-VPCSubnetAutoAssignPublicIpDisabled',
        reason: 'Public subnets hold only the NAT (gateway or instance); no function or database runs there.',
      },
      {
        id: 'PCI.DSS.321-VPCNoUnrestrictedRouteToIGW',
        reason:
          'The NAT needs the default route to the internet gateway: functions call Stripe and WeChat Pay APIs ' +
          'over HTTPS. Function and database subnets have no route to the IGW.',
      },
    ]);
  }
  if (natInstance) {
    // Test stages only (stage.ts: live stages use managed NAT gateways).
    for (const subnet of vpc.publicSubnets) {
      const instance = subnet.node.tryFindChild('NatInstance');
      if (!instance) continue;
      waive(instance, [
        {
          id: 'AwsSolutions-EC26',
          reason:
            'Test-stage NAT instance: its root volume holds the stock AMI and no data; removable by design.',
        },
        {
          id: 'AwsSolutions-EC28',
          reason:
            'Test-stage NAT instance (~3 USD/month instead of a NAT gateway): basic monitoring is enough.',
        },
        {
          id: 'AwsSolutions-EC29',
          reason:
            'Test-stage NAT instance: replaced, never protected; the stage is removable by declaration.',
        },
      ]);
    }
  }

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
