export interface Finding {
  id: string;
  message: string;
  file: string;
  line?: number;
}
export declare function scan(root: string): Finding[];
export declare const REQUIRED_FUSES: Record<string, boolean>;
export declare function parseFuses(yml: string): Record<string, unknown> | null;
