// Reading synthesized CloudFormation across the stacks of one stage: follow Ref / GetAtt / ImportValue to the
// resource they name, find functions by handler, and collect the IAM statements a function's role carries.
import type { StackName, SynthesizedStage } from './synth.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON is untyped; tests assert on its shape.
export type CfnValue = any;

export interface CfnResource {
  Type: string;
  Properties?: CfnValue;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: CfnValue; Export?: { Name: string } }>;
}

export interface Located {
  stack: StackName;
  id: string;
  resource: CfnResource;
}

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: CfnValue;
  Principal?: CfnValue;
  Condition?: CfnValue;
}

export const HANDLER_DIR = 'packages/functions/src';

export const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

export class StageCfn {
  readonly templates: Record<StackName, CfnTemplate>;
  private readonly exports = new Map<string, { stack: StackName; value: CfnValue }>();

  constructor(readonly synthesized: SynthesizedStage) {
    this.templates = Object.fromEntries(
      Object.entries(synthesized.templates).map(([name, template]) => [
        name,
        template.toJSON() as CfnTemplate,
      ]),
    ) as Record<StackName, CfnTemplate>;
    for (const [stack, template] of this.entries()) {
      for (const output of Object.values(template.Outputs ?? {})) {
        if (output.Export) this.exports.set(output.Export.Name, { stack, value: output.Value });
      }
    }
  }

  get stage(): string {
    return this.synthesized.stage;
  }

  entries(): [StackName, CfnTemplate][] {
    return Object.entries(this.templates) as [StackName, CfnTemplate][];
  }

  all(type?: string): Located[] {
    return this.entries().flatMap(([stack, template]) =>
      Object.entries(template.Resources)
        .filter(([, resource]) => type === undefined || resource.Type === type)
        .map(([id, resource]) => ({ stack, id, resource })),
    );
  }

  in(stack: StackName, type: string): Located[] {
    return this.all(type).filter((located) => located.stack === stack);
  }

  one(stack: StackName, type: string): Located {
    const found = this.in(stack, type);
    if (found.length !== 1) throw new Error(`expected one ${type} in ${stack}, found ${found.length}`);
    return found[0]!;
  }

  /** The resource a Ref / Fn::GetAtt / Fn::ImportValue (as seen from `stack`) points at. */
  resolve(stack: StackName, value: CfnValue): Located | undefined {
    if (value === null || typeof value !== 'object') return undefined;
    if ('Fn::ImportValue' in value) {
      const exported = this.exports.get(value['Fn::ImportValue']);
      return exported ? this.resolve(exported.stack, exported.value) : undefined;
    }
    const id: string | undefined = value.Ref ?? value['Fn::GetAtt']?.[0];
    if (id === undefined) return undefined;
    const resource = this.templates[stack].Resources[id];
    return resource ? { stack, id, resource } : undefined;
  }

  /** The payhooks function whose handler is packages/functions/src/<entry>.handler. */
  fn(entry: string): Located {
    const handler = `${HANDLER_DIR}/${entry}.handler`;
    const found = this.all('AWS::Lambda::Function').filter((f) => f.resource.Properties.Handler === handler);
    if (found.length !== 1) throw new Error(`expected one function for ${handler}, found ${found.length}`);
    return found[0]!;
  }

  env(entry: string): Record<string, CfnValue> {
    return this.fn(entry).resource.Properties.Environment?.Variables ?? {};
  }

  role(entry: string): Located {
    const fn = this.fn(entry);
    const role = this.resolve(fn.stack, fn.resource.Properties.Role);
    if (!role) throw new Error(`role of ${entry} not found`);
    return role;
  }

  /** Every statement the function's role carries: inline policies and AWS::IAM::Policy documents attached to it. */
  statements(entry: string): Statement[] {
    const role = this.role(entry);
    const inline = asArray<CfnValue>(role.resource.Properties.Policies).flatMap(
      (p) => p.PolicyDocument.Statement,
    );
    const attached = this.in(role.stack, 'AWS::IAM::Policy')
      .filter((p) => asArray<CfnValue>(p.resource.Properties.Roles).some((r) => r.Ref === role.id))
      .flatMap((p) => p.resource.Properties.PolicyDocument.Statement);
    return [...inline, ...attached] as Statement[];
  }

  managedPolicyArns(entry: string): string[] {
    return asArray<CfnValue>(this.role(entry).resource.Properties.ManagedPolicyArns).map((arn) =>
      JSON.stringify(arn),
    );
  }

  /** Every IAM statement in the stage: role policies, managed policies and resource policies. */
  allStatements(): { where: string; statement: Statement }[] {
    const out: { where: string; statement: Statement }[] = [];
    const add = (where: string, document: CfnValue) => {
      for (const statement of asArray<Statement>(document?.Statement)) out.push({ where, statement });
    };
    for (const { stack, id, resource } of this.all()) {
      const where = `${stack}/${id} (${resource.Type})`;
      const p = resource.Properties ?? {};
      if (resource.Type === 'AWS::IAM::Role') {
        for (const policy of asArray<CfnValue>(p.Policies)) add(where, policy.PolicyDocument);
      }
      if (['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(resource.Type))
        add(where, p.PolicyDocument);
      if (
        ['AWS::S3::BucketPolicy', 'AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy'].includes(resource.Type)
      ) {
        add(where, p.PolicyDocument);
      }
    }
    return out;
  }
}

export const actionsOf = (statement: Statement): string[] => asArray(statement.Action);

/** Serialises a CloudFormation value so tests can look for names and literals inside Fn::Join etc. */
export const text = (value: CfnValue): string => JSON.stringify(value);
