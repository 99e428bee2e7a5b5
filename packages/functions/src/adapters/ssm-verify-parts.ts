// Writes a WeChat Pay merchant's verify part to its SSM parameter `/payhooks/<stage>/wechatpay/verify/<id>`
// (the platform-certificate refresher's only write; its role may put parameters under verify/ and nowhere else).
// Intelligent-Tiering lets SSM move a part above 4 KB (a rotation overlap with many keys) to the advanced tier.
import type { VerifyPartStore } from '@payhooks/core/providers/wechatpay';

interface SendsCommands {
  send(command: unknown): Promise<unknown>;
}

export function ssmVerifyPartStore(root: string, client?: SendsCommands): VerifyPartStore {
  const base = root.replace(/\/+$/, '');
  return {
    async write(part) {
      const { SSMClient, PutParameterCommand } = await import('@aws-sdk/client-ssm');
      const ssm = client ?? (new SSMClient({}) as unknown as SendsCommands);
      await ssm.send(
        new PutParameterCommand({
          Name: `${base}/verify/${part.id}`,
          Value: JSON.stringify(part),
          Type: 'SecureString',
          Overwrite: true,
          Tier: 'Intelligent-Tiering',
        }),
      );
    },
  };
}
