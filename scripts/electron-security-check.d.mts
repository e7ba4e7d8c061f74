export interface Finding {
  id: string;
  message: string;
  file: string;
  line?: number;
}
export declare function scan(root: string): Finding[];
