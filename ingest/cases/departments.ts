/**
 * Which department a case goes to. Core routes by category (core/cases/categories.ts `routeCase`) to its
 * department ids; the installation's departments table (geo-data departments.json) may name them
 * differently (`urban` for core's `urban_management`) and lists the category classes each handles. The
 * resolver keeps core's choice when the table has it, else takes the department that lists the category's
 * class, else an alias, else core's choice as it is.
 */
import { classOf, routeCase, type RoutingTable } from '../../core/cases/categories.ts';
import type { Queryable } from '../store/db.ts';
import { listDepartments } from '../store/users.ts';

export interface Department {
  id: string;
  name: string;
  nameEn: string;
  categories: string[];
}

/** Core id → ids an installation commonly uses for the same department. */
const ALIASES: Record<string, string[]> = {
  urban_management: ['urban', 'chengguan'],
  public_works: ['municipal', 'public-works'],
};

export class DepartmentDirectory {
  private list: Department[] = [];
  private byId = new Map<string, Department>();

  constructor(private readonly routing: RoutingTable = []) {}

  async load(q: Queryable): Promise<void> {
    this.replace(await listDepartments(q));
  }

  replace(list: Department[]): void {
    this.list = list;
    this.byId = new Map(list.map((d) => [d.id, d]));
  }

  all(): Department[] {
    return this.list;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** A department id from core (or a rules file) as this installation names it. */
  resolve(id: string, category?: string): string {
    if (this.byId.size === 0 || this.byId.has(id)) return id;
    for (const a of ALIASES[id] ?? []) if (this.byId.has(a)) return a;
    if (category) {
      const cls = classOf(category);
      const d = this.list.find((x) => x.categories.includes(category) || x.categories.includes(cls));
      if (d) return d.id;
    }
    return id;
  }

  /** The responsible department for a category in a grid. */
  route(category: string, gridCode: string | null): string {
    return this.resolve(routeCase(category, gridCode, this.routing), category);
  }
}
