package dev.aliyuncsr.operator.upload.simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * Runs the actors of one simulated world one at a time, on threads that hand a baton back and
 * forth: an actor runs until it touches the world ({@link #yieldNow}), then the scheduler, driven
 * by the seed, chooses who goes next. Only one thread ever runs, so a seed is one schedule and
 * replays exactly.
 */
public final class Scheduler {
  /** Thrown at an actor's yield point to kill it there, as SIGKILL would. */
  public static final class Crash extends Error {
    public Crash() {
      super("simulated crash", null, false, false);
    }
  }

  private static final class Stop extends Error {
    Stop() {
      super("stop", null, false, false);
    }
  }

  /** What an actor does when it runs, and how it restarts after a crash. */
  public interface Body {
    void step();

    void restart();
  }

  /** One actor: a thread that runs only while it holds the baton. */
  public final class Actor {
    public final String name;
    private final Semaphore go = new Semaphore(0);
    private boolean crash;
    private boolean stop;
    private boolean finished;
    private Throwable failure;
    private final Thread thread;

    private Actor(String name, Body body) {
      this.name = name;
      this.thread =
          new Thread(
              () -> {
                current.set(this);
                go.acquireUninterruptibly();
                try {
                  while (true) {
                    try {
                      if (stop) {
                        throw new Stop();
                      }
                      body.step();
                      yieldNow();
                    } catch (Crash c) {
                      body.restart();
                    }
                  }
                } catch (Stop s) {
                  // done
                } catch (Throwable t) {
                  failure = t;
                } finally {
                  finished = true;
                  toScheduler.release();
                }
              },
              "sim-" + name);
      thread.setDaemon(true);
      thread.start();
    }

    public boolean finished() {
      return finished;
    }
  }

  private final ThreadLocal<Actor> current = new ThreadLocal<>();
  private final Semaphore toScheduler = new Semaphore(0);
  private final List<Actor> actors = new ArrayList<>();

  public Actor spawn(String name, Body body) {
    Actor actor = new Actor(name, body);
    actors.add(actor);
    return actor;
  }

  /** Lets the actor run until its next yield point; rethrows what it failed with. */
  public void resume(Actor actor) {
    if (actor.finished) {
      return;
    }
    actor.go.release();
    toScheduler.acquireUninterruptibly();
    if (actor.failure != null) {
      Throwable t = actor.failure;
      actor.failure = null;
      if (t instanceof RuntimeException e) {
        throw e;
      }
      if (t instanceof Error e) {
        throw e;
      }
      throw new IllegalStateException(t);
    }
  }

  /** Kills the actor at the yield point it is parked at; it restarts with nothing in memory. */
  public void crash(Actor actor) {
    actor.crash = true;
    resume(actor);
  }

  /** Called on an actor's thread wherever it touches the world. */
  public void yieldNow() {
    Actor me = current.get();
    if (me == null) {
      return; // the scheduler's own thread (the user, the checks): runs straight through
    }
    toScheduler.release();
    me.go.acquireUninterruptibly();
    if (me.stop) {
      throw new Stop();
    }
    if (me.crash) {
      me.crash = false;
      throw new Crash();
    }
  }

  /** Ends every actor's thread. */
  public void shutdown() {
    for (Actor actor : actors) {
      if (!actor.finished) {
        actor.stop = true;
        actor.go.release();
        toScheduler.acquireUninterruptibly();
      }
    }
  }
}
